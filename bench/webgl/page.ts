/**
 * Browser side of `npm run bench:webgl`: the stock TF.js composition (the package's reference block,
 * i.e. what a converted model runs without fusion) and the fused kernels, side by side on webgl in one
 * page, chained block after block as in a network. Reports wall time per block and draw calls per block.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgl';
import type { MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import { convfirstBlock, convfirstBlockReference, convnextBlock, convnextBlockReference } from '../../src/index.js';
import { type BlockWeights, convPass, expandPass, type FragmentShape, packInputs, projectPass, projectShape,
  setExpandShape, setProjectShape } from '../../src/kernels/webgl/block_passes.js';
import { allocatePackedOutputs, copyTexelRects } from '../../src/kernels/webgl/multi_target_pass.js';
import { blockSplitRects, splitShape } from '../../src/kernels/webgl/pointwise_program.js';
import { prepareConvFirst, prepareConvNeXt } from '../../src/kernels/webgl/block_weights.js';
import { type BlockSpec, convfirstSpec, convnextSpec } from '../../src/spec/block_spec.js';
import { median } from '../../src/analysis/stats.js';

export interface BenchArgs {
  shapes: Array<[number, number]>; chain: number; samples: number; kinds: string[];
  /**
   * Expand-pass fragment shapes to time the fused block with, side by side: 'PxQ' = P pixel-pair row
   * halves x Q channel pairs (P * Q render targets; 1x1 = single output).
   */
  expand: string[];
  /**
   * Project-pass fragment shapes, crossed with `expand`: 1x1 = the single-output pass writing tfjs's
   * texture directly; more = parts in block split layout blitted into it.
   */
  project: string[];
  /** Also time each pass alone (conv, expand and project per target count). */
  passes: boolean;
}
/**
 * One fused variant: the block with the expand and project passes forced to fragment shapes `expand`
 * and `project` ('PxQ'); draw calls and blits per block.
 */
export interface VariantRow {
  expand: string; project: string; wallMs: number; cpuMs: number; cpuSamples: number[]; draws: number; blits: number;
}
/** One pass alone: median wall / CPU ms per run (project: the fragment of a project pass, else '-'). */
export interface PassRow { pass: string; expand: string; project: string; wallMs: number; cpuMs: number }
export interface BenchRow {
  kind: string; h: number; w: number; c: number; d: number;
  /** Median wall ms per block. */
  stockMs: number; fusedMs: number; speedup: number;
  /** Median browser CPU ms per block (GPU process = SwiftShader included): steadier on a shared machine. */
  stockCpuMs: number; fusedCpuMs: number; cpuSpeedup: number;
  stockDraws: number; fusedDraws: number;
  /** Framebuffer blits per block (texture copies, not draws; only the multi-target project pass makes them). */
  stockBlits: number; fusedBlits: number;
  /**
   * The floor for any WebGL block: tfjs's own packed matMul for the two 1x1 layers alone (2 texel fetches
   * per 8 multiply-adds, the best a 4-output fragment can do; sampling bounds it on SwiftShader). Median
   * wall / CPU ms, measured in the same interleaved loop.
   */
  matmulFloorMs: number; matmulFloorCpuMs: number;
  stockSamples: number[]; fusedSamples: number[]; stockCpuSamples: number[]; fusedCpuSamples: number[];
  variants: VariantRow[];
  passRows: PassRow[];
}

/** 'PxQ' -> { rowHalves: P, channelPairs: Q }. */
function parseShape(e: string): FragmentShape {
  const [rowHalves, channelPairs] = e.split('x').map(Number);
  if (!(rowHalves === 1 || rowHalves === 2) || !(channelPairs >= 1)) throw new Error(`fragment shape ${e}: want 1xQ or 2xQ`);
  return { rowHalves, channelPairs };
}

const cpuMs = (): Promise<number> =>
  (globalThis as unknown as { __browserCpuMs?: () => Promise<number> }).__browserCpuMs?.() ?? Promise.resolve(NaN);

/** [draw calls, framebuffer blits] that `f` makes. */
function countDraws(f: () => tf.Tensor): [number, number] {
  const gl = (tf.backend() as MathBackendWebGL).gpgpu.gl as WebGL2RenderingContext;
  const draw = gl.drawElements;
  const blit = gl.blitFramebuffer;
  let n = 0;
  let b = 0;
  gl.drawElements = function (...a: Parameters<typeof draw>) { n++; return draw.apply(this, a); };
  gl.blitFramebuffer = function (...a: Parameters<typeof blit>) { b++; return blit.apply(this, a); };
  try { tf.dispose(f()); } finally { gl.drawElements = draw; gl.blitFramebuffer = blit; }
  return [n, b];
}

/**
 * [wall, cpu] ms per block over `chain` chained blocks, ended by a GPU fence (no readback, so only the
 * blocks' own passes are timed).
 */
async function timeChain(block: (x: tf.Tensor4D) => tf.Tensor4D, x0: tf.Tensor4D, chain: number):
  Promise<[number, number]> {
  const fence = () => (tf.backend() as MathBackendWebGL).gpgpu.createAndWaitForFence();
  await fence();
  const c0 = await cpuMs();
  const t0 = performance.now();
  let x = x0;
  for (let i = 0; i < chain; i++) {
    const y = block(x);
    if (x !== x0) x.dispose();
    x = y;
  }
  await fence();
  const t1 = performance.now();
  const c1 = await cpuMs();
  x.dispose();
  return [(t1 - t0) / chain, (c1 - c0) / chain];
}

function rand(shape: number[], scale: number, offset = 0): tf.Tensor {
  return tf.tidy(() => tf.add(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', 7), scale), offset));
}

async function benchShape(kind: string, h: number, c: number, args: BenchArgs): Promise<BenchRow> {
  const d = 4 * c;
  const k = kind === 'convnext' ? 7 : 3;
  const g = 8;
  const x = tf.tidy(() => tf.add(rand([1, h, h, c], 1), 0)) as tf.Tensor4D; // packed, on the GPU
  const common = { w1: rand([c, d], 1 / Math.sqrt(c)), b1: rand([d], 0.1), w2: rand([d, c], 1 / Math.sqrt(d)),
    b2: rand([c], 0.1) };
  let stock: (x: tf.Tensor4D) => tf.Tensor4D;
  let fused: (x: tf.Tensor4D) => tf.Tensor4D;
  let weights: tf.Tensor[];
  if (kind === 'convnext') {
    const wt = { dwFilter: rand([k, k, c, 1], 1 / k), dwBias: rand([c], 0.1), lnGamma: rand([c], 0.1, 1),
      lnBeta: rand([c], 0.1), ...common, layerScale: rand([c], 0.1, 0.5) };
    weights = Object.values(wt);
    stock = (xi) => tf.tidy(() => convnextBlockReference({ x: xi, ...wt } as never, { epsilon: 1e-6, activation: 'gelu' }));
    fused = (xi) => convnextBlock(xi, wt, { activation: 'gelu' });
  } else {
    const wt = { filter: rand([k, k, g, c], 1 / (k * Math.sqrt(g))), bias: rand([c], 0.1), ...common };
    weights = Object.values(wt);
    stock = (xi) => tf.tidy(() => convfirstBlockReference({ x: xi, ...wt } as never, { activation: 'silu', residual: true }));
    fused = (xi) => convfirstBlock(xi, wt, { activation: 'silu' });
  }
  const withShapes = (e: string, pr: string) => (xi: tf.Tensor4D) => {
    setExpandShape(parseShape(e));
    setProjectShape(parseShape(pr));
    try { return fused(xi); } finally { setExpandShape(null); setProjectShape(null); }
  };
  const variantShapes = args.expand.flatMap((e) => args.project.map((pr) => [e, pr] as const));
  const variantFns = variantShapes.map(([e, pr]) => withShapes(e, pr));
  const rows = rand([h * h, c], 1) as tf.Tensor2D;
  const w1 = common.w1 as tf.Tensor2D;
  const w2 = common.w2 as tf.Tensor2D;
  const matmuls = () => tf.tidy(() => tf.matMul(tf.matMul(rows, w1), w2));
  // Warm up: compile every program, upload and prepare weights.
  for (const f of [stock, fused, ...variantFns]) { const y = f(x); await y.data(); y.dispose(); }
  { const y = matmuls(); await y.data(); y.dispose(); }
  const [stockDraws, stockBlits] = countDraws(() => stock(x));
  const [fusedDraws, fusedBlits] = countDraws(() => fused(x));
  const variantCounts = variantFns.map((f) => countDraws(() => f(x)));
  const stockSamples: number[] = [];
  const fusedSamples: number[] = [];
  const stockCpuSamples: number[] = [];
  const fusedCpuSamples: number[] = [];
  const floorSamples: number[] = [];
  const floorCpuSamples: number[] = [];
  const variantSamples = variantFns.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
  for (let s = 0; s < args.samples; s++) { // interleaved, so drift hits all alike
    const [sw, sc] = await timeChain(stock, x, args.chain);
    const [fw, fc] = await timeChain(fused, x, args.chain);
    const [mw, mc] = await timeChain((xi) => { tf.dispose(matmuls()); return tf.clone(xi); }, x, args.chain);
    stockSamples.push(sw); stockCpuSamples.push(sc); fusedSamples.push(fw); fusedCpuSamples.push(fc);
    floorSamples.push(mw); floorCpuSamples.push(mc);
    for (let v = 0; v < variantFns.length; v++) {
      const [vw, vc] = await timeChain(variantFns[v], x, args.chain);
      variantSamples[v].wall.push(vw); variantSamples[v].cpu.push(vc);
    }
  }
  const variants = variantShapes.map(([expand, project], v) => ({ expand, project,
    wallMs: median(variantSamples[v].wall), cpuMs: median(variantSamples[v].cpu), cpuSamples: variantSamples[v].cpu,
    draws: variantCounts[v][0], blits: variantCounts[v][1] }));
  const passRows = args.passes ? await timePasses(kind, x, weights, args) : [];
  tf.dispose([x, rows, ...weights]);
  const stockMs = median(stockSamples);
  const fusedMs = median(fusedSamples);
  const stockCpuMs = median(stockCpuSamples);
  const fusedCpuMs = median(fusedCpuSamples);
  return { kind, h, w: h, c, d, stockMs, fusedMs, speedup: stockMs / fusedMs, stockCpuMs, fusedCpuMs,
    cpuSpeedup: stockCpuMs / fusedCpuMs, stockDraws, fusedDraws, stockBlits, fusedBlits, matmulFloorMs: median(floorSamples),
    matmulFloorCpuMs: median(floorCpuSamples), stockSamples, fusedSamples, stockCpuSamples,
    fusedCpuSamples, variants, passRows };
}

/** [wall, cpu] ms of one run of `f` (median over samples of `reps` runs, each sample ended by a fence). */
async function timeRuns(f: () => void, reps: number, samples: number): Promise<[number, number]> {
  const fence = () => (tf.backend() as MathBackendWebGL).gpgpu.createAndWaitForFence();
  f(); await fence();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let s = 0; s < samples; s++) {
    await fence();
    const c0 = await cpuMs();
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) f();
    await fence();
    wall.push((performance.now() - t0) / reps);
    cpu.push(((await cpuMs()) - c0) / reps);
  }
  return [median(wall), median(cpu)];
}

/**
 * Each pass of the fused block alone, on its own prepared weights (block_weights.ts, as the kernel
 * prepares them): conv; expand for every fragment shape in args.expand, and after each, project for every
 * fragment shape in args.project, and that project pass's blits alone (copying parts into an output).
 */
async function timePasses(kind: string, x: tf.Tensor4D, weights: tf.Tensor[], args: BenchArgs): Promise<PassRow[]> {
  const backend = tf.backend() as MathBackendWebGL;
  const values = await Promise.all(weights.map((w) => w.data() as Promise<Float32Array>));
  const [, h, , c] = x.shape;
  const d = 4 * c;
  let spec: BlockSpec;
  let prepared: Record<string, { shape: number[]; values: Float32Array }>;
  if (kind === 'convnext') {
    spec = convnextSpec(x.shape, [c, d], weights[0].shape, { epsilon: 1e-6, activation: 'gelu' }, true);
    prepared = prepareConvNeXt(spec.k, c, d, values);
  } else {
    spec = convfirstSpec(x.shape, [c, d], weights[0].shape, { activation: 'silu', residual: true });
    prepared = prepareConvFirst(spec.k, spec.groupWidth, c, d, values);
  }
  const wt = Object.fromEntries(Object.entries(prepared).map(([n, t]) =>
    [n, backend.makeTensorInfo(t.shape, 'float32', t.values)])) as unknown as BlockWeights;
  const p = packInputs(backend, x, wt);
  const rows: PassRow[] = [];
  const reps = Math.max(2, args.chain);
  const record = async (pass: string, expand: string, project: string, f: () => tf.TensorInfo[]) => {
    const [wallMs, cpu] = await timeRuns(() => { for (const t of f()) backend.disposeIntermediateTensorInfo(t); },
      reps, args.samples);
    rows.push({ pass, expand, project, wallMs, cpuMs: cpu });
    console.log(`  ${kind} ${h}x${h}x${c} pass ${pass}${pass === 'conv' ? '' : ` (expand ${expand}` +
      `${pass === 'project' ? `, project ${project}` : ''})`}: wall ${wallMs.toFixed(1)} ms, cpu ${cpu.toFixed(0)} ms`);
  };
  await record('conv', '-', '-', () => [convPass(backend, spec, p)]);
  const conv = convPass(backend, spec, p);
  for (const e of args.expand) {
    const shape = parseShape(e);
    await record('expand', e, '-', () => expandPass(backend, spec, p, conv, shape).parts);
    const hidden = expandPass(backend, spec, p, conv, shape);
    for (const pr of args.project) {
      setProjectShape(parseShape(pr));
      try {
        await record('project', e, pr, () => [projectPass(backend, spec, p, hidden)]);
        const s = projectShape(backend, x.shape, c);
        if (s.rowHalves * s.channelPairs > 1 && e === args.expand[0]) {
          // The copies alone, same rectangles, from parts of the right shape into a block-sized output.
          const [out] = allocatePackedOutputs(backend, x.shape, 1);
          const parts = allocatePackedOutputs(backend, splitShape(x.shape, c, s.channelPairs, s.rowHalves),
            s.rowHalves * s.channelPairs);
          const copies = blockSplitRects(x.shape, c, s.channelPairs, s.rowHalves).map((r) =>
            ({ source: parts[r.part], x: r.x, y: r.y, width: r.width, height: r.height }));
          await record('blits', '-', pr, () => { copyTexelRects(backend, out, copies); return []; });
          for (const t of [out, ...parts]) backend.disposeIntermediateTensorInfo(t);
        }
      } finally {
        setProjectShape(null);
      }
    }
    for (const hp of hidden.parts) backend.disposeIntermediateTensorInfo(hp);
  }
  for (const t of [conv, ...p.temporaries]) backend.disposeIntermediateTensorInfo(t);
  for (const t of Object.values(wt) as tf.TensorInfo[]) backend.disposeData(t.dataId);
  return rows;
}

(globalThis as unknown as { __run: (a: BenchArgs) => Promise<unknown> }).__run = async (args: BenchArgs) => {
  tf.env().set('WEBGL_CPU_FORWARD', false);
  if (!(await tf.setBackend('webgl'))) throw new Error('webgl backend unavailable in this browser');
  await tf.ready();
  const gl = (tf.backend() as MathBackendWebGL).gpgpu.gl;
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
  const rows: BenchRow[] = [];
  for (const kind of args.kinds) {
    for (const [h, c] of args.shapes) {
      const row = await benchShape(kind, h, c, args);
      console.log(`${kind} ${h}x${h}x${c}: wall ${row.stockMs.toFixed(1)} -> ${row.fusedMs.toFixed(1)} ms ` +
        `(x${row.speedup.toFixed(2)}), cpu ${row.stockCpuMs.toFixed(0)} -> ${row.fusedCpuMs.toFixed(0)} ms ` +
        `(x${row.cpuSpeedup.toFixed(2)}), draws ${row.stockDraws} -> ${row.fusedDraws} + ${row.fusedBlits} blits, ` +
        `1x1 matmul floor ${row.matmulFloorMs.toFixed(0)} ms / cpu ${row.matmulFloorCpuMs.toFixed(0)} ms; ` +
        row.variants.map((v) => `${v.expand}/${v.project}: cpu ${v.cpuMs.toFixed(0)} ms ` +
          `(x${(row.stockCpuMs / v.cpuMs).toFixed(2)})`).join(', '));
      rows.push(row);
    }
  }
  return { renderer, webglVersion: tf.env().getNumber('WEBGL_VERSION'), userAgent: navigator.userAgent, rows };
};
