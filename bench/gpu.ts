/**
 * `npm run bench`: fused WebGPU block kernels vs the stock TF.js op composition, side by side in one run,
 * in Node on Dawn (the `webgpu` package). Also measures the device's WGSL FMA peak and copy bandwidth.
 *
 *   npm run bench -- [--json FILE] [--smoke] [--split] [--sweep [--sweep-ops convnext] [--sweep-only a,b] [--sweep-batch N]]
 *
 * --smoke: small shapes and few iterations (for SwiftShader on a CPU-only machine; not a timing).
 * --split: where the automatic plan picks the split-hidden variant, also time the plain one-dispatch kernel
 *   (impl 'fused-plain') and a sweep of forced slice counts S (JSON `splitSweep`), in the same run; skips the
 *   per-phase partial kernels.
 * --sweep: tiling variants and partial kernels (tuning; see runSweep), best and median of interleaved rounds.
 * Stock and fused are measured in ROUNDS interleaved rounds per shape; gpuMs is the best round.
 * Rows: {op, impl: 'stock'|'fused', n, h, w, c, d, gpuMs, wallMs, dispatches, tflops, peakTflops, ...}.
 */
import { parseCommandLine } from './support/args.js';
import { writeJsonFile } from './support/json_output.js';
import { GPU_COMMAND } from './support/bench_args.js';
import { sweepPlan, sweepVariants } from './support/sweep_variants.js';
import { median } from '../src/analysis/stats.js';

// The command line is checked (--help, unknown options or --sweep-only names: exit) before any device work;
// the options: bench/support/bench_args.ts GPU_COMMAND. --sweep options: `--sweep-ops convnext` (default both
// kinds), `--sweep-only a,b` (variant names at N=32), `--sweep-batch N` (the --sweep-only variants at batch N only;
// default: N=32, plus three variants at N=1).
const { smoke, sweep, splitMode, sweepOps, sweepOnly, sweepBatch, jsonFile } = parseCommandLine(GPU_COMMAND);

// Dawn must provide navigator.gpu before tfjs-backend-webgpu is evaluated (it registers itself on import);
// it also asks Dawn for unquantized timestamps. No Vulkan driver named: SwiftShader where installed.
const { setupNodeWebGPU } = await import('../src/node/webgpu_setup.js');
await setupNodeWebGPU({ preferSwiftShader: true });
const tf = await import('@tensorflow/tfjs-core');
const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
const lib = await import('../src/index.js');
// Benchmark-only knobs (tiling sweeps, per-phase partial kernels); not part of the package API.
const tuning = await import('../src/kernels/webgpu/index.js');
const { convnextBlockReference, convfirstBlockReference } = await import('../src/kernels/reference/block_reference.js');
const { blockWeights, maxAbsDiffFrom } = await import('./support/bench_tensors.js');
type BlockOp = import('./support/bench_tensors.js').BlockOp;
const { countDispatches, describeDevice, GPU_TIMING, measureBenchPeaks, SMOKE_GPU_TIMING, steadyGpuTime } =
  await import('./support/webgpu_bench.js');

type Tensor = InstanceType<typeof tf.Tensor>;
type Op = BlockOp;
interface Row {
  op: Op; impl: 'stock' | 'fused' | 'fused-plain'; n: number; h: number; w: number; c: number; d: number;
  gpuMs: number; wallMs: number; dispatches: number; tflops: number; peakTflops: number;
  pctPeak: number; computeFloorMs: number; memoryFloorMs: number; speedup?: number; maxAbsDiff?: number;
  /** Fused only: GPU time of the partial kernels (conv + norm written out; x loaded + MLP). */
  convPhaseMs?: number; mlpPhaseMs?: number;
  /** Fused: the variant that ran, its hidden slices and first-dispatch workgroups (lastKernelDecision). */
  variant?: string; hiddenSplits?: number; workgroups?: number;
}
interface SplitSweepRow { op: Op; n: number; h: number; w: number; c: number; hiddenSplits: number; gpuMs: number;
  workgroups: number }
const splitSweep: SplitSweepRow[] = [];
/** --sweep rows: fused GPU time of one tiling variant (or partial kernel), min and median over rounds. */
const sweepRows: { op: Op; n: number; h: number; w: number; c: number; variant: string; gpuMs: number;
  medianMs: number; tflops: number; tiling: unknown }[] = [];

/** GPU time per call in steady state (bench/support/webgpu_bench.ts steadyGpuTime). */
function gpuTime(f: () => Tensor, repeats: number): Promise<number> {
  return steadyGpuTime(f, { ...(smoke ? SMOKE_GPU_TIMING : GPU_TIMING), repeats });
}

if (!(await tf.setBackend('webgpu'))) throw new Error('webgpu backend failed to start (no adapter?)');
await tf.ready();
tf.env().set('WEBGPU_CPU_FORWARD', false);
const backend = tf.backend() as InstanceType<typeof WebGPUBackend>;
const device = backend.device;
const adapterInfo = (backend as unknown as { adapterInfo?: unknown }).adapterInfo;
console.log(describeDevice(backend));
const peaks = await measureBenchPeaks(device, smoke);
// Programs per block call: every GPU program goes through the backend's runWebGPUProgram.
const dispatchCounter = countDispatches(backend);

const STAGES = smoke ? [[8, 8, 16], [5, 5, 32], [3, 3, 64]] : [[56, 56, 96], [28, 28, 192], [14, 14, 384], [7, 7, 768]];
const BATCHES = smoke ? [1, 2] : [1, 32];
const GPU_REPEATS = (smoke ? SMOKE_GPU_TIMING : GPU_TIMING).repeats;
const WALL_REPEATS = smoke ? 2 : 20;
/** Interleaved rounds of stock and fused per shape (GPU time: best of all rounds). */
const ROUNDS = smoke ? 1 : 3;

function blockCall(op: Op, impl: 'stock' | 'fused' | 'fused-plain', x: Tensor, w: Record<string, Tensor>): () => Tensor {
  if (impl === 'fused-plain') {
    const f = blockCall(op, 'fused', x, w);
    return () => {
      tuning.setTilingOverride({ hiddenSplits: 1 });
      try { return f(); } finally { tuning.setTilingOverride(null); }
    };
  }
  if (impl === 'fused') {
    return op === 'convnext' ? () => lib.convnextBlock(x as never, w as never) :
      () => lib.convfirstBlock(x as never, w as never, { activation: 'gelu' });
  }
  return op === 'convnext' ?
    () => tf.tidy(() => convnextBlockReference({ x, ...w } as never, { epsilon: 1e-6, activation: 'gelu' })) :
    () => tf.tidy(() => convfirstBlockReference({ x, ...w } as never, { activation: 'gelu', residual: true }));
}

/** FLOPs and compulsory bytes of one block call (conv + MLP; norm/activation/residual are O(C) per pixel). */
function cost(op: Op, n: number, h: number, w: number, c: number, d: number) {
  const k = op === 'convnext' ? 7 : 3;
  const g = op === 'convnext' ? 1 : 8;
  const pixels = n * h * w;
  const flops = pixels * (2 * k * k * g * c + 4 * c * d);
  const bytes = 4 * (2 * pixels * c + 2 * c * d + k * k * g * c + 2 * c + d);
  return { flops, bytes };
}

async function measure(f: () => Tensor): Promise<{ gpuMs: number; wallMs: number; dispatches: number }> {
  for (let i = 0; i < 3; i++) { const y = f(); await y.data(); y.dispose(); }
  dispatchCounter.reset();
  const y0 = f();
  const dispatches = dispatchCounter.count;
  await y0.data();
  y0.dispose();
  const gpuMs = await gpuTime(f, GPU_REPEATS);
  // Wall time: calls queued back to back, one read-back at the end, per call.
  const t0 = performance.now();
  let last: Tensor | null = null;
  for (let i = 0; i < WALL_REPEATS; i++) { last?.dispose(); last = f(); }
  const probe = tf.slice(last as unknown as Tensor, [0, 0, 0, 0], [1, 1, 1, 1]);
  await probe.data();
  const wallMs = (performance.now() - t0) / WALL_REPEATS;
  probe.dispose();
  (last as unknown as Tensor).dispose();
  return { gpuMs, wallMs, dispatches };
}

/** --sweep: GPU time of tiling variants and partial (per-phase) kernels on the N=32 shapes. */
async function runSweep(): Promise<void> {
  const variants = sweepVariants(tuning);
  // Identical shaders measured 1.2 and 2.0 ms in one pass over the variants (H200): every variant is timed
  // in ROUNDS interleaved passes and reported as min and median.
  for (const [n, only] of sweepPlan({ smoke, sweepOnly, sweepBatch })) {
    for (const op of sweepOps) {
      for (const [h, wd, c] of STAGES) {
        const w = blockWeights(op, c, 4 * c);
        const x = tf.randomNormal([n, h, wd, c], 0, 1, 'float32', 3);
        const { flops } = cost(op, n, h, wd, c, 4 * c);
        const times = new Map<string, number[]>();
        const tilings = new Map<string, unknown>();
        const selected = variants.filter(([v]) => only == null || only.includes(v));
        for (let round = 0; round < ROUNDS; round++) {
          for (const [name, set] of selected) {
            set();
            try {
              const call = blockCall(op, 'fused', x, w);
              call().dispose();
              const decision = lib.lastKernelDecision();
              if (!decision?.fused) {
                if (round === 0) console.log(`${op} N${n} ${h}x${wd}x${c} ${name}: does not fit: ${decision?.reason}`);
                continue;
              }
              tilings.set(name, { variant: decision.variant, ...decision.tiling, gemm: decision.gemm });
              times.set(name, [...(times.get(name) ?? []), await gpuTime(call, GPU_REPEATS)]);
            } finally {
              tuning.setFusedPhasesForProfiling('all');
              tuning.setTilingOverride(null);
            }
          }
        }
        for (const [name, ms] of times) {
          const best = Math.min(...ms);
          sweepRows.push({ op, n, h, w: wd, c, variant: name, gpuMs: best, medianMs: median(ms), tflops: flops / best / 1e9,
            tiling: tilings.get(name) });
          console.log(`${op.padEnd(9)} N${n} ${h}x${wd}x${c} ${name.padEnd(16)} min ${fmt(best)} ms  median ` +
            `${fmt(median(ms))} ms ${fmt(flops / best / 1e9, 2)} TFLOP/s  ${JSON.stringify(tilings.get(name))}`);
        }
        x.dispose();
        tf.dispose(Object.values(w));
      }
    }
  }
}

const fmt = (v: number, p = 3) => v.toFixed(p).padStart(8);
const rows: Row[] = [];
if (sweep) {
  await runSweep();
  if (jsonFile) {
    writeJsonFile(jsonFile, { date: new Date().toISOString(), adapter: adapterInfo, peaks, sweep: sweepRows });
  }
  process.exit(0);
}
console.log('\nop        impl   N  HxWxC        D     gpu ms  wall ms  disp  TFLOP/s  %peak  floor(c) floor(m)  speedup');
for (const op of ['convnext', 'convfirst'] as Op[]) {
  for (const [h, wd, c] of STAGES) {
    const d = 4 * c;
    const w = blockWeights(op, c, d);
    for (const n of BATCHES) {
      const x = tf.randomNormal([n, h, wd, c], 0, 1, 'float32', 3);
      const { flops, bytes } = cost(op, n, h, wd, c, d);
      const computeFloorMs = flops / (peaks.fmaTflops * 1e12) * 1e3;
      const memoryFloorMs = bytes / (peaks.copyGBps * 1e9) * 1e3;
      const maxAbsDiff = await maxAbsDiffFrom(blockCall(op, 'stock', x, w), blockCall(op, 'fused', x, w));
      let stockMs = NaN;
      blockCall(op, 'fused', x, w)().dispose();
      const autoSplits = lib.lastKernelDecision()?.tiling?.hiddenSplits ?? 1;
      const impls = splitMode && autoSplits > 1 ? ['stock', 'fused-plain', 'fused'] as const : ['stock', 'fused'] as const;
      // Stock and fused interleaved over ROUNDS rounds, best GPU time of each (wall time and dispatches from the
      // first): a slow spell of the GPU's clocks then falls on both instead of on whichever ran during it.
      const measured = new Map<string, { m: Awaited<ReturnType<typeof measure>>; decision: ReturnType<typeof lib.lastKernelDecision> }>();
      for (const impl of impls) {
        const m = await measure(blockCall(op, impl, x, w));
        measured.set(impl, { m, decision: lib.lastKernelDecision() });
      }
      for (let round = 1; round < ROUNDS; round++) {
        for (const impl of impls) {
          const entry = measured.get(impl)!;
          entry.m.gpuMs = Math.min(entry.m.gpuMs, await gpuTime(blockCall(op, impl, x, w), GPU_REPEATS));
        }
      }
      for (const impl of impls) {
        const { m, decision } = measured.get(impl)!;
        const tflops = flops / (m.gpuMs * 1e-3) / 1e12;
        const row: Row = { op, impl, n, h, w: wd, c, d, gpuMs: m.gpuMs, wallMs: m.wallMs, dispatches: m.dispatches,
          tflops, peakTflops: peaks.fmaTflops, pctPeak: 100 * tflops / peaks.fmaTflops, computeFloorMs, memoryFloorMs };
        if (impl === 'stock') stockMs = m.gpuMs;
        else {
          row.speedup = stockMs / m.gpuMs;
          row.maxAbsDiff = maxAbsDiff;
          row.variant = decision?.variant;
          row.hiddenSplits = decision?.tiling?.hiddenSplits;
          row.workgroups = decision?.workgroups;
          if (impl === 'fused-plain') {
            row.maxAbsDiff = await maxAbsDiffFrom(blockCall(op, 'stock', x, w), blockCall(op, 'fused-plain', x, w));
          }
          for (const phase of splitMode ? [] : ['conv', 'mlp'] as const) {
            tuning.setFusedPhasesForProfiling(phase);
            const ms = await gpuTime(blockCall(op, 'fused', x, w), GPU_REPEATS);
            tuning.setFusedPhasesForProfiling('all');
            if (phase === 'conv') row.convPhaseMs = ms; else row.mlpPhaseMs = ms;
          }
        }
        rows.push(row);
        console.log(`${op.padEnd(9)} ${impl.padEnd(5)} ${String(n).padStart(3)}  ${`${h}x${wd}x${c}`.padEnd(11)} ` +
          `${String(d).padStart(5)} ${fmt(m.gpuMs)} ${fmt(m.wallMs)} ${String(m.dispatches).padStart(5)} ` +
          `${fmt(tflops, 2)} ${fmt(row.pctPeak, 1)} ${fmt(computeFloorMs)} ${fmt(memoryFloorMs)}` +
          (row.speedup ? ` ${fmt(row.speedup, 2)}x  (max |fused-stock| ${row.maxAbsDiff!.toExponential(1)}; ` +
            (splitMode ? '' : `phases: conv+norm ${row.convPhaseMs?.toFixed(3)} ms, mlp ${row.mlpPhaseMs?.toFixed(3)} ms; `) +
            `${JSON.stringify(decision?.reason)})` : ''));
      }
      if (splitMode && autoSplits > 1) {
        // Forced slice counts around the automatic one (each must divide the number of hidden chunks).
        const chunks = d / (lib.lastKernelDecision()?.tiling?.hiddenChunk ?? d);
        for (const s of [2, 3, 4, 6, 8, 12, 16, 24].filter((v) => chunks % v === 0)) {
          tuning.setTilingOverride({ hiddenSplits: s });
          const ms = await gpuTime(blockCall(op, 'fused', x, w), GPU_REPEATS);
          const wg = lib.lastKernelDecision()?.workgroups ?? 0;
          tuning.setTilingOverride(null);
          splitSweep.push({ op, n, h, w: wd, c, hiddenSplits: s, gpuMs: ms, workgroups: wg });
          console.log(`  split sweep ${op} N${n} ${h}x${wd}x${c} S=${s}: ${fmt(ms)} ms (${wg} workgroups)` +
            (s === autoSplits ? ' <- automatic' : ''));
        }
      }
      x.dispose();
    }
    tf.dispose(Object.values(w));
  }
}

if (jsonFile) {
  writeJsonFile(jsonFile, { date: new Date().toISOString(), adapter: adapterInfo, peaks, rows, splitSweep });
  console.log(`wrote ${rows.length} rows to ${jsonFile}`);
}
process.exit(0);
