/**
 * WebGL fused block kernels: float64 agreement on extra odd shapes (the foundation matrix itself runs in
 * ops_reference.spec.ts through the same ops), unwritten-texel poisoning, draw calls per block (at most
 * 3, no hidden pack / unpack / reshape passes) and blits (the multi-target project pass's part copies),
 * both project paths, the weight cache's lifetime, empty inputs, and the reference path on a real WebGL 1 context.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { MathBackendWebGL, webgl_util } from '@tensorflow/tfjs-backend-webgl';
import { convfirstBlock, convnextBlock } from '../../src/index.js';
import { type ExpandShape, expandShape, type ProjectShape, projectShape, setExpandShape, setProjectShape }
  from '../../src/kernels/webgl/block_passes.js';
import { cachedWeightSets, fusedBlocksSupported } from '../../src/kernels/webgl/index.js';
import { maxRenderTargets } from '../../src/kernels/webgl/multi_target_pass.js';
import { isNatural, outputLayout } from '../../src/kernels/webgl/packed_layout.js';
import { splitShape } from '../../src/kernels/webgl/pointwise_program.js';
import { isReshapeFree, packedTextureShape } from '../../src/kernels/webgl/webgl_rules.js';
import { type BlockCase, caseName, compare, prepareCase, runBlockCase } from '../support/block_cases.js';
import { useBackend, withWebGLFlags } from '../support/browser_backends.js';
import { freshSeed, Rng } from '../support/random.js';
import { recordPasses } from '../support/webgl_passes.js';

const seed = freshSeed();

function webglBackend(): MathBackendWebGL {
  return tf.backend() as MathBackendWebGL;
}

interface Made { x: tf.Tensor4D; weights: Record<string, tf.Tensor>; run: (x: tf.Tensor4D) => tf.Tensor4D;
  expected: Float64Array; depth: number }

function makeCase(t: BlockCase, rng: Rng): Made {
  const p = prepareCase(t, rng);
  const all: Record<string, tf.Tensor> = {};
  for (const [name, data] of Object.entries(p.inputs)) all[name] = tf.tensor(data, p.shapes[name], 'float32');
  const { x, ...weights } = all;
  const run = (input: tf.Tensor4D) => t.kind === 'convnext' ?
    convnextBlock(input, weights as never, { activation: t.act }) :
    convfirstBlock(input, weights as never, { activation: t.act, residual: t.residual });
  return { x: x as tf.Tensor4D, weights, run, expected: p.expected, depth: p.depth };
}

/** A packed, GPU-resident copy of x, as the previous block's output would be. */
function packedOnGpu<T extends tf.Tensor>(x: T): T {
  const y = tf.add(x, tf.zerosLike(x)) as T;
  const texData = webglBackend().texData.get(y.dataId);
  expect(texData.isPacked).withContext('packed binary op output').toBeTrue();
  return y;
}

const ODD_CASES: BlockCase[] = [
  { kind: 'convnext', n: 2, h: 9, w: 7, c: 6, d: 22, k: 7, act: 'gelu', layerScale: true },
  { kind: 'convnext', n: 1, h: 1, w: 1, c: 5, d: 7, k: 3, act: 'gelu_tanh', layerScale: false },
  { kind: 'convnext', n: 3, h: 5, w: 13, c: 33, d: 132, k: 5, act: 'silu', layerScale: true },
  { kind: 'convfirst', n: 2, h: 11, w: 3, c: 24, d: 96, k: 3, g: 8, act: 'relu6', residual: true },
  { kind: 'convfirst', n: 1, h: 6, w: 5, c: 7, d: 9, k: 5, g: 1, act: 'gelu', residual: false },
  { kind: 'convfirst', n: 1, h: 4, w: 4, c: 9, d: 18, k: 3, g: 3, act: 'silu', residual: true },
  { kind: 'convfirst', n: 1, h: 3, w: 5, c: 10, d: 20, k: 3, g: 2, act: 'relu', residual: true },
];

type Dims = { n: number; h: number; w: number; c: number; d: number };
const pass = (targets: number) => targets > 1 ? `MultiTargetPass(${targets})` : 'PointwiseProgram';

/**
 * The passes a block runs (a 1x1 pass is a multi-target draw unless it has one target), assuming plain
 * (unsquarified) textures.
 */
function blockPasses(t: Dims): string[] {
  const e = expandShape(webglBackend(), [t.n, t.h, t.w], t.d);
  const p = projectShape(webglBackend(), [t.n, t.h, t.w], t.c);
  return ['SpatialConvProgram', pass(e.rowHalves * e.channelPairs), pass(p.rowHalves * p.channelPairs)];
}

/**
 * Blits a block's multi-target project pass makes, counted here from the shape, not by the kernel's own
 * rectangle code: one per non-empty part, i.e. per row half (2 unless there is one pixel-pair row) and per
 * block of Q = ceil(pairs / T) channel pairs, T = min(wanted, pairs, 8 / halves); none for one target.
 */
function expectedBlits(t: Dims, wanted: ProjectShape): number {
  const rows = t.n * t.h * Math.ceil(t.w / 2);
  const pairs = Math.ceil(t.c / 2);
  const halves = rows > 1 ? wanted.rowHalves : 1;
  const q = Math.ceil(pairs / Math.min(wanted.channelPairs, pairs, 8 / halves));
  const parts = halves * Math.ceil(pairs / q);
  return parts > 1 ? parts : 0;
}

// Expand fragments: single output (through runWebGLProgram), 1 x 4 and 1 x 8 channel pairs, and both
// row halves x 2 / 4 channel pairs.
const EXPAND_VARIANTS: ExpandShape[] = [
  { rowHalves: 1, channelPairs: 1 }, { rowHalves: 1, channelPairs: 4 }, { rowHalves: 1, channelPairs: 8 },
  { rowHalves: 2, channelPairs: 2 }, { rowHalves: 2, channelPairs: 4 },
];
const MULTI_PROJECT: ProjectShape = { rowHalves: 2, channelPairs: 4 };
const SINGLE_PROJECT: ProjectShape = { rowHalves: 1, channelPairs: 1 };
const DEFAULT_EXPAND: ExpandShape = { rowHalves: 2, channelPairs: 4 };

/**
 * Both fragments, forced: every expand fragment with the multi-target project (2 x 4 parts + blits);
 * the single-output project (the previous path) after a single, a 1 x 4 and the 2 x 4 expand; other
 * project fragments after the 2 x 4 expand (1 x 4, 1 x 8: one row half; 2 x 2).
 */
interface Variant { expand: ExpandShape; project: ProjectShape }
const VARIANTS: Variant[] = [
  ...EXPAND_VARIANTS.map((expand) => ({ expand, project: MULTI_PROJECT })),
  ...[EXPAND_VARIANTS[0], EXPAND_VARIANTS[1], DEFAULT_EXPAND].map((expand) => ({ expand, project: SINGLE_PROJECT })),
  ...[{ rowHalves: 1, channelPairs: 4 }, { rowHalves: 1, channelPairs: 8 }, { rowHalves: 2, channelPairs: 2 }]
    .map((project) => ({ expand: DEFAULT_EXPAND, project: project as ProjectShape })),
];
const variantName = (v: Variant) =>
  `expand ${v.expand.rowHalves}x${v.expand.channelPairs}, project ${v.project.rowHalves}x${v.project.channelPairs}`;
const useVariant = (v: Variant) => { setExpandShape(v.expand); setProjectShape(v.project); };

/**
 * The GL state a fused block must leave as the previous tfjs pass left it (viewport and program are
 * tfjs's own business per draw, but the block puts them back too).
 */
function glState(): unknown[] {
  const gpgpu = webglBackend().gpgpu;
  const gl = gpgpu.gl as WebGL2RenderingContext;
  const onTfjsFramebuffer = gl.getParameter(gl.DRAW_FRAMEBUFFER_BINDING) === gpgpu.framebuffer;
  const attachment = (i: number) => onTfjsFramebuffer ? gl.getFramebufferAttachmentParameter(gl.DRAW_FRAMEBUFFER,
    gl.COLOR_ATTACHMENT0 + i, gl.FRAMEBUFFER_ATTACHMENT_OBJECT_NAME) : 'not bound';
  return [gl.getParameter(gl.READ_FRAMEBUFFER_BINDING) === gpgpu.framebuffer,
    gl.getParameter(gl.DRAW_FRAMEBUFFER_BINDING) === gpgpu.framebuffer, gl.getParameter(gl.READ_BUFFER),
    gl.getParameter(gl.DRAW_BUFFER0), gl.getParameter(gl.DRAW_BUFFER1), attachment(0) === gpgpu.outputTexture,
    attachment(1), Array.from(gl.getParameter(gl.VIEWPORT) as Int32Array),
    Array.from(gl.getParameter(gl.SCISSOR_BOX) as Int32Array), gl.isEnabled(gl.SCISSOR_TEST),
    gl.getParameter(gl.CURRENT_PROGRAM) === gpgpu.program,
    gl.getParameter(gl.VERTEX_ARRAY_BINDING) === (gpgpu.program as unknown as { vao: unknown } | null)?.vao];
}

describe(`webgl fused blocks (seed ${seed})`, () => {
  const rng = new Rng(seed);
  beforeEach(async () => { await useBackend('webgl'); });
  afterEach(() => { setExpandShape(null); setProjectShape(null); });

  it('runs on WebGL 2', () => {
    expect(tf.env().getNumber('WEBGL_VERSION')).toBe(2);
  });

  it('offers at least 8 render targets (SwiftShader)', () => {
    expect(maxRenderTargets(webglBackend().gpgpu)).toBeGreaterThanOrEqual(8);
  });

  for (const v of VARIANTS) {
    for (const t of ODD_CASES) {
      it(`matches float64, ${variantName(v)}: ${caseName(t)}`, async () => {
        useVariant(v);
        await runBlockCase(t, rng.int(1, 2 ** 30));
      });
    }
  }

  const TALL_CASES: BlockCase[] = [
    { kind: 'convnext', n: 2, h: 17, w: 9, c: 12, d: 48, k: 5, act: 'gelu', layerScale: true },
    { kind: 'convfirst', n: 2, h: 17, w: 9, c: 16, d: 64, k: 3, g: 8, act: 'silu', residual: true },
  ];
  for (const e of EXPAND_VARIANTS) {
    for (const t of TALL_CASES) {
      it(`matches float64 with squarified (non-row-aligned) textures, expand ${e.rowHalves}x${e.channelPairs}: ${caseName(t)}`, async () => {
        // A small max texture size makes tfjs wrap texel rows across texture rows: the shaders' generic
        // addressing path.
        const saved = tf.env().getNumber('WEBGL_MAX_TEXTURE_SIZE');
        tf.env().set('WEBGL_MAX_TEXTURE_SIZE', e.rowHalves === 2 ? 64 : 128); // small enough to squarify every part
        setExpandShape(e);
        setProjectShape(MULTI_PROJECT);
        try {
          expect(isNatural(outputLayout([t.n, t.h, t.w, t.c]))).withContext('block output squarified').toBeFalse();
          expect(isNatural(outputLayout(splitShape([t.n, t.h, t.w], t.d, e.channelPairs, e.rowHalves))))
            .withContext('hidden squarified').toBeFalse();
          await runBlockCase(t, rng.int(1, 2 ** 30));
        } finally {
          tf.env().set('WEBGL_MAX_TEXTURE_SIZE', saved);
        }
      });
    }
  }

  it('falls back to the single-output project pass (no blits) when the output texture is squarified', async () => {
    const t = TALL_CASES[0];
    const saved = tf.env().getNumber('WEBGL_MAX_TEXTURE_SIZE');
    tf.env().set('WEBGL_MAX_TEXTURE_SIZE', 64);
    setProjectShape(MULTI_PROJECT);
    try {
      const m = makeCase(t, new Rng(rng.int(1, 2 ** 30)));
      const x = packedOnGpu(m.x);
      tf.dispose(m.run(x)); // weights prepared
      const rec = recordPasses(() => m.run(x));
      expect(rec.programs[2]).toBe('PointwiseProgram');
      expect(rec.blits).toBe(0);
      expect(rec.draws).toBe(3);
      compare(await rec.result.data(), m.expected, m.depth, caseName(t));
      tf.dispose([rec.result, x, m.x, ...Object.values(m.weights)]);
    } finally {
      tf.env().set('WEBGL_MAX_TEXTURE_SIZE', saved);
    }
  });

  const POISON_VARIANTS = [...EXPAND_VARIANTS.map((expand) => ({ expand, project: MULTI_PROJECT })),
    { expand: DEFAULT_EXPAND, project: SINGLE_PROJECT }];
  for (const [v, t] of POISON_VARIANTS.flatMap((v) => [...ODD_CASES.slice(0, 4), ODD_CASES[6]].map((c) => [v, c] as const))) {
    it(`writes every element (poisoned recycled textures), ${variantName(v)}: ${caseName(t)}`, async () => {
      useVariant(v);
      const m = makeCase(t, new Rng(rng.int(1, 2 ** 30)));
      // Packed NaN textures of every shape the passes write (block output, conv, hidden parts, output
      // parts), released so the texture manager hands them out again; an element the passes forget to
      // write (or a blit rectangle that misses) then reads NaN and fails the comparison.
      const used = expandShape(webglBackend(), [t.n, t.h, t.w], t.d);
      const out = projectShape(webglBackend(), [t.n, t.h, t.w], t.c);
      const parts = Math.max(used.rowHalves * used.channelPairs, out.rowHalves * out.channelPairs);
      const shapes = [[t.n, t.h, t.w, t.c], splitShape([t.n, t.h, t.w], t.d, used.channelPairs, used.rowHalves),
        splitShape([t.n, t.h, t.w], t.c, out.channelPairs, out.rowHalves)];
      const poison = shapes.flatMap((shape) => Array.from({ length: parts }, () => packedOnGpu(tf.fill(shape, NaN))));
      for (let i = 0; i < 2; i++) {
        for (const p of poison) {
          const copy = tf.add(p, 0);
          copy.dispose();
        }
      }
      tf.dispose(poison);
      const y = m.run(m.x);
      compare(await y.data(), m.expected, m.depth, caseName(t));
      tf.dispose([y, m.x, ...Object.values(m.weights)]);
    });
  }

  const DRAW_CASES = [ODD_CASES[0], ODD_CASES[1], ODD_CASES[2], ODD_CASES[3], ODD_CASES[4], ODD_CASES[6]];
  for (const [v, t] of VARIANTS.flatMap((v) => DRAW_CASES.map((c) => [v, c] as const))) {
    it(`takes 3 draw calls, the expected blits and no pack/unpack passes per block, ${variantName(v)}: ${caseName(t)}`, async () => {
      useVariant(v);
      const m = makeCase(t, new Rng(rng.int(1, 2 ** 30)));
      const x = packedOnGpu(m.x);
      const first = m.run(x); // prepares and uploads the weights
      await first.data();
      const { result: y, draws, blits, programs } = recordPasses(() => m.run(first));
      expect(programs).toEqual(blockPasses(t));
      const e = v.expand;
      const halves = t.n * t.h * Math.ceil(t.w / 2) > 1 ? e.rowHalves : 1;
      const targets = halves * Math.min(e.channelPairs, Math.ceil(t.d / 2));
      expect(programs[1]).toBe(targets === 1 ? 'PointwiseProgram' : `MultiTargetPass(${targets})`);
      const copies = expectedBlits(t, v.project);
      expect(programs[2]).toBe(copies === 0 ? 'PointwiseProgram' : `MultiTargetPass(${copies})`); // one target per part
      expect(blits).withContext('blits').toBe(copies);
      expect(draws).toBe(3);
      expect(webglBackend().texData.get(y.dataId).isPacked).toBeTrue();
      // The second block's output is checked too: a chain of fused blocks stays correct.
      const y1 = await first.data();
      expect(Array.from(y1).every(Number.isFinite)).toBeTrue();
      tf.dispose([x, first, y, m.x, ...Object.values(m.weights)]);
    });
  }

  for (const [project, t] of [SINGLE_PROJECT, MULTI_PROJECT].flatMap((p) => [ODD_CASES[0], ODD_CASES[3]].map((c) => [p, c] as const))) {
    it(`leaves the GL state tfjs relies on: stock ops right after a fused block match cpu, project ${project.rowHalves}x${project.channelPairs}: ${caseName(t)}`, async () => {
      setProjectShape(project);
      const r = new Rng(rng.int(1, 2 ** 30));
      const values = (n: number) => Float32Array.from({ length: n }, () => r.normal());
      const a = values(5 * 7);
      const b = values(7 * 3);
      const img = values(1 * 6 * 5 * 3);
      const filter = values(3 * 3 * 3 * 4);
      const stockOps = () => [
        tf.matMul(tf.tensor2d(a, [5, 7]), tf.tensor2d(b, [7, 3])),
        tf.conv2d(tf.tensor4d(img, [1, 6, 5, 3]), tf.tensor4d(filter, [3, 3, 3, 4]), 1, 'same'),
        tf.relu(tf.add(tf.tensor2d(a, [5, 7]), 1)),
      ];
      if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend unavailable');
      const expected = tf.tidy(() => stockOps().map((y) => y.dataSync().slice()));
      await useBackend('webgl');
      const m = makeCase(t, r);
      const x = packedOnGpu(m.x);
      tf.dispose(m.run(x)); // weights prepared, so the next call is only the block's passes
      tf.dispose(tf.add(x, 1)); // a stock op of the same shape last: the state tfjs left
      const before = glState();
      const y = m.run(x); // the fused block; the stock ops run right after it, before any readback
      expect(glState()).withContext('GL state after a fused block').toEqual(before);
      const got = tf.tidy(() => stockOps().map((o) => tf.keep(o)));
      for (let i = 0; i < got.length; i++) {
        const g = await got[i].data();
        expect(g.length).toBe(expected[i].length);
        for (let j = 0; j < g.length; j++) {
          expect(Math.abs(g[j] - expected[i][j])).withContext(`stock op ${i} element ${j}`)
            .toBeLessThan(1e-4 * (1 + Math.abs(expected[i][j])));
        }
      }
      compare(await y.data(), m.expected, m.depth, caseName(t));
      tf.dispose([...got, x, y, m.x, ...Object.values(m.weights)]);
    });
  }

  it('compiles without drawing or blitting under ENGINE_COMPILE_ONLY (tfjs parallel-compile warm-up), then runs correctly', async () => {
    setExpandShape({ rowHalves: 1, channelPairs: 4 });
    setProjectShape(MULTI_PROJECT);
    const t = ODD_CASES[2];
    const m = makeCase(t, new Rng(rng.int(1, 2 ** 30)));
    const backend = webglBackend();
    tf.env().set('ENGINE_COMPILE_ONLY', true);
    let draws = 0;
    let blits = 0;
    try {
      const rec = recordPasses(() => m.run(m.x));
      draws = rec.draws;
      blits = rec.blits;
      rec.result.dispose();
    } finally {
      tf.env().set('ENGINE_COMPILE_ONLY', false);
    }
    expect(draws).withContext('draws while compiling only').toBe(0);
    expect(blits).withContext('blits while compiling only').toBe(0);
    backend.checkCompileCompletion();
    backend.getUniformLocations();
    const y = m.run(m.x);
    compare(await y.data(), m.expected, m.depth, caseName(t));
    tf.dispose([y, m.x, ...Object.values(m.weights)]);
  });

  it('reports the multi-target draws and the blits to tf.time like the other passes', async () => {
    setExpandShape({ rowHalves: 1, channelPairs: 4 });
    setProjectShape(SINGLE_PROJECT);
    const m = makeCase(ODD_CASES[0], new Rng(rng.int(1, 2 ** 30)));
    tf.dispose(m.run(m.x)); // weights prepared, programs compiled
    const info = await tf.time(() => tf.dispose(m.run(m.x))) as tf.TimingInfo & { getExtraProfileInfo?: () => string };
    const names = info.getExtraProfileInfo?.() ?? '';
    for (const pass of ['SpatialConvProgram', 'MultiTargetPass', 'PointwiseProgram']) {
      expect(names).withContext(names).toContain(`${pass}: `);
    }
    setProjectShape(MULTI_PROJECT);
    const multi = await tf.time(() => tf.dispose(m.run(m.x))) as tf.TimingInfo & { getExtraProfileInfo?: () => string };
    const multiNames = multi.getExtraProfileInfo?.() ?? '';
    expect(multiNames.match(/MultiTargetPass: /g)?.length).withContext(multiNames).toBe(2);
    expect(multiNames).withContext(multiNames).toContain('TexelBlits: ');
    tf.dispose([m.x, ...Object.values(m.weights)]);
  });

  it('uploads a CPU-resident input packed in one pass, and packs an unpacked GPU input once', () => {
    const m = makeCase(ODD_CASES[0], new Rng(rng.int(1, 2 ** 30)));
    tf.dispose(m.run(m.x)); // weights prepared
    const fresh = tf.tensor(m.x.dataSync(), m.x.shape) as tf.Tensor4D;
    const a = recordPasses(() => m.run(fresh));
    expect(a.programs).toEqual(['EncodeMatrixPackedProgram', ...blockPasses(ODD_CASES[0])]);
    const unpacked = tf.relu(tf.reshape(tf.tensor(m.x.dataSync(), [m.x.size]), m.x.shape)) as tf.Tensor4D;
    unpacked.dataSync();
    const packedFlag = webglBackend().texData.get(unpacked.dataId).isPacked;
    const b = recordPasses(() => m.run(unpacked));
    const packs = b.programs.filter((p) => p === 'PackProgram').length;
    expect(packs).toBe(packedFlag ? 0 : 1);
    expect(b.programs.filter((p) => p !== 'PackProgram')).toEqual(blockPasses(ODD_CASES[0]));
    tf.dispose([a.result, b.result, fresh, unpacked, m.x, ...Object.values(m.weights)]);
  });

  it('prepares weights once per weight set and frees them with the weights', async () => {
    const backend = webglBackend();
    const setsBefore = cachedWeightSets(backend);
    const buffersBefore = tf.memory().numDataBuffers;
    const tensorsBefore = tf.memory().numTensors;
    const m = makeCase(ODD_CASES[2], new Rng(rng.int(1, 2 ** 30)));
    const y0 = m.run(m.x);
    expect(cachedWeightSets(backend)).toBe(setsBefore + 1);
    const again = recordPasses(() => m.run(y0));
    expect(again.programs).toEqual(blockPasses(ODD_CASES[2]));
    expect(cachedWeightSets(backend)).toBe(setsBefore + 1);
    await again.result.data();
    tf.dispose([y0, again.result, m.x, ...Object.values(m.weights)]);
    expect(cachedWeightSets(backend)).toBe(setsBefore);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(tf.memory().numDataBuffers).toBe(buffersBefore);
  });

  it('keeps one prepared entry per weight set when two sets share a tensor (no re-preparing as they alternate)', async () => {
    const backend = webglBackend();
    const setsBefore = cachedWeightSets(backend);
    const tensorsBefore = tf.memory().numTensors;
    const t: BlockCase = { kind: 'convnext', n: 1, h: 5, w: 6, c: 8, d: 24, k: 3, act: 'gelu', layerScale: true };
    const a = makeCase(t, new Rng(rng.int(1, 2 ** 30)));
    const b = makeCase(t, new Rng(rng.int(1, 2 ** 30)));
    // Set b shares a's dwFilter; set c is a without its layer scale.
    const bWeights = { ...b.weights, dwFilter: a.weights.dwFilter };
    const { layerScale: _unused, ...cWeights } = a.weights;
    const runs = [
      () => convnextBlock(a.x, a.weights as never), () => convnextBlock(a.x, bWeights as never),
      () => convnextBlock(a.x, cWeights as never),
    ];
    const reads = () => {
      let n = 0;
      const readSync = backend.readSync;
      backend.readSync = function (...args: Parameters<typeof readSync>) { n++; return readSync.apply(this, args); };
      return { count: () => n, restore: () => { backend.readSync = readSync; } };
    };
    const first = runs.map((run) => run());
    expect(cachedWeightSets(backend)).toBe(setsBefore + 3);
    const counter = reads();
    try {
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < runs.length; i++) {
          const y = runs[i]();
          const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(y, first[i]))));
          expect(diff.dataSync()[0]).toBe(0);
          tf.dispose([diff, y]);
        }
      }
    } finally { counter.restore(); }
    // One read per check above (its max); no weight set was read back to be prepared again.
    expect(counter.count()).toBe(3 * runs.length);
    expect(cachedWeightSets(backend)).toBe(setsBefore + 3);
    a.weights.dwFilter.dispose();
    // Every set that held the shared filter is freed with it; the b-only tensors stay valid.
    expect(cachedWeightSets(backend)).toBe(setsBefore);
    tf.dispose([...first, a.x, b.x, ...Object.values(a.weights), ...Object.values(b.weights)]);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('runs an empty batch or image (N, H or W = 0) to an empty output, drawing nothing', async () => {
    const c = 8;
    const m = makeCase({ kind: 'convnext', n: 1, h: 3, w: 3, c, d: 16, k: 3, act: 'gelu', layerScale: false }, new Rng(seed));
    const f = makeCase({ kind: 'convfirst', n: 1, h: 3, w: 3, c, d: 16, k: 3, g: 4, act: 'silu', residual: true }, new Rng(seed));
    const tensorsBefore = tf.memory().numTensors;
    for (const shape of [[0, 5, 5, c], [2, 0, 5, c], [1, 4, 0, c]] as [number, number, number, number][]) {
      for (const made of [m, f]) {
        const x = tf.zeros(shape) as tf.Tensor4D;
        const run = recordPasses(() => made.run(x));
        expect(run.programs).withContext(`${shape}`).toEqual([]);
        expect(run.result.shape).toEqual(shape);
        expect((await run.result.data()).length).toBe(0);
        tf.dispose([x, run.result]);
      }
    }
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    tf.dispose([m.x, f.x, ...Object.values(m.weights), ...Object.values(f.weights)]);
  });

  it('runs the reference composition on a real WebGL 1 context (the passes need WebGL 2)', async () => {
    expect(fusedBlocksSupported(1)).toBeFalse();
    expect(fusedBlocksSupported(2)).toBeTrue();
    // A webgl backend on a WebGL 1 context, as on a browser without WebGL 2; the WebGL 2 one is restored after.
    await withWebGLFlags({ WEBGL_VERSION: 1 }, async () => {
      expect(tf.env().getNumber('WEBGL_VERSION')).toBe(1);
      const rng = new Rng(seed + 1);
      for (const t of ODD_CASES.slice(0, 2)) {
        const made = makeCase(t, rng);
        const run = recordPasses(() => made.run(made.x));
        const fusedPasses = run.programs.filter((p) => p === 'SpatialConvProgram' || p === 'PointwiseProgram' ||
          p.startsWith('MultiTargetPass'));
        expect(fusedPasses).withContext(run.programs.join()).toEqual([]);
        expect(run.programs.length).withContext('the reference ran stock programs').toBeGreaterThan(3);
        compare(await run.result.data(), made.expected, made.depth, `${caseName(t)} on WebGL 1`);
        tf.dispose([run.result, made.x, ...Object.values(made.weights)]);
      }
    });
    expect(tf.env().getNumber('WEBGL_VERSION')).toBe(2);
  });

  it('leaves no tensors behind when an op rejects bad input', () => {
    const x = tf.zeros([1, 4, 4, 8]) as tf.Tensor4D;
    const w = { dwFilter: tf.zeros([3, 3, 8, 1]), dwBias: tf.zeros([8]), lnGamma: tf.zeros([8]), lnBeta: tf.zeros([8]),
      w1: tf.zeros([8, 16]), b1: tf.zeros([16]), w2: tf.zeros([16, 7]), b2: tf.zeros([8]) };
    const before = tf.memory().numTensors;
    const buffers = tf.memory().numDataBuffers;
    expect(() => convnextBlock(x, w)).toThrowError(/weights\.w2 must have shape/);
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.memory().numDataBuffers).toBe(buffers);
    tf.dispose([x, ...Object.values(w)]);
  });
});

describe('webgl_rules.ts: tfjs-backend-webgl\'s texture rules, written out', () => {
  beforeAll(async () => { await useBackend('webgl'); });
  it('packedTextureShape and isReshapeFree equal webgl_util on many shapes and texture limits', () => {
    const shapes: number[][] = [[], [1], [7], [2, 3], [5, 1], [1, 9], [3, 4, 5], [1, 1, 33], [2, 9, 7, 6], [1, 56, 56, 96],
      [32, 7, 7, 768], [3, 1, 1, 5], [4, 17, 3, 2], [1, 1, 1, 1], [8, 2], [1, 100000], [100000, 3], [2, 2, 2, 2, 2]];
    const rng = new Rng(seed);
    for (let i = 0; i < 200; i++) {
      const rank = rng.int(1, 4);
      shapes.push(Array.from({ length: rank }, () => rng.int(1, i % 3 === 0 ? 3000 : 40)));
    }
    const saved = tf.env().getNumber('WEBGL_MAX_TEXTURE_SIZE');
    try {
      for (const maxSize of [saved, 256, 64]) {
        tf.env().set('WEBGL_MAX_TEXTURE_SIZE', maxSize);
        for (const shape of shapes) {
          expect(packedTextureShape(shape)).withContext(`${shape} at ${maxSize}`)
            .toEqual(webgl_util.getTextureShapeFromLogicalShape(shape, true) as [number, number]);
        }
      }
    } finally { tf.env().set('WEBGL_MAX_TEXTURE_SIZE', saved); }
    for (const a of shapes) {
      for (const b of shapes.slice(0, 40)) {
        expect(isReshapeFree(a, b)).withContext(`${a} -> ${b}`).toBe(webgl_util.isReshapeFree(a, b));
      }
    }
  });
});
