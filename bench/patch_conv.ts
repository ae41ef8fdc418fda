/**
 * `npm run bench:patch-conv`: FusedPatchConv vs stock TF.js (conv2d + bias add, and the LayerNorm before the
 * downsample convs as stock ops or as FusedLayerNorm) at ConvNeXt-T's four patch conv shapes, side by side
 * in one run, in Node on Dawn: GPU time (timestamp queries), wall time, dispatches, and the floors.
 *
 *   tsx bench/patch_conv.ts [--json FILE] [--smoke] [--sweep] [--batches 1,32]
 *   tsx bench/patch_conv.ts --splitk [--splits 1,2,4,8,16] [--gemm-splits 1,2,3,4] [--rounds 3] [--batches 1,32]
 *     [--shapes stem,down1,...] [--gemm-tiles 32x96x4x3,64x128x8x2,...]
 *     [--json FILE] [--smoke]
 *
 * --smoke: small shapes and few iterations (SwiftShader on a CPU-only machine; not a timing).
 * --sweep: also time forced tilings of the fused kernel (rows, cols, threads, K slice, statistics lanes) at the largest N.
 * Rows: {shape, impl, n, gpuMs, wallMs, dispatches, tflops, computeFloorMs, memoryFloorMs, maxAbsDiff}.
 * --splitk (instead of the table above): split-K comparison. Per shape and N: stock, stock+fusedLN (downsamples),
 *   fused with the automatic plan, the direct kernel with its automatic split ('direct auto'), the direct kernel with
 *   each forced S of --splits that divides the plan's K slices, and the GEMM path with each S of --gemm-splits (for
 *   the downsamples with the LayerNorm folded where S allows, and as its own dispatch, 'gemm LN disp' and 'gemm S=k LN'),
 *   and the GEMM path with each tile of --gemm-tiles (bm x bn x tm x tn4, bk 16, the rule's splits: 'gemm tile ...');
 *   every (shape, N, variant) measured once per round, --rounds interleaved rounds over all of them (each round's
 *   variant order rotated), min and median of GPU and wall time over the rounds. Rows: {shape, n, variant,
 *   kSplits, workgroups, dispatches, gpuMs[], gpuMin, gpuMedian, wallMs[], wallMin, wallMedian,
 *   speedupVsStock, speedupVsUnsplit (median GPU), maxAbsDiff}.
 */
import { parseCommandLine } from './support/args.js';
import { writeJsonFile } from './support/json_output.js';
import { PATCH_CONV_COMMAND, PATCH_CONV_DEFAULT_BATCHES } from './support/bench_args.js';
import { median } from '../src/analysis/stats.js';

// The command line is checked (--help, unknown options, shape names: exit) before any device work.
const cli = parseCommandLine(PATCH_CONV_COMMAND);
const { smoke, sweep, splitK, jsonFile } = cli;

// Dawn must provide navigator.gpu before tfjs-backend-webgpu is evaluated (it registers itself on import).
const { setupNodeWebGPU } = await import('../src/node/webgpu_setup.js');
await setupNodeWebGPU({ preferSwiftShader: true });
const tf = await import('@tensorflow/tfjs-core');
const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
const lib = await import('../src/index.js');
const tuning = await import('../src/kernels/webgpu/index.js');
const { rowVec4Tile } = await import('../src/kernels/webgpu/gemm_wgsl.js');
const { layerNormReference } = await import('../src/kernels/reference/layer_norm_reference.js');
const { maxAbsDiffFrom, patchConvWeights } = await import('./support/bench_tensors.js');
const { PATCH_SWEEP_VARIANTS, sweepForcedTilings } = await import('./support/patch_sweep.js');
type PatchConvOverride = import('../src/kernels/webgpu/patch_conv_plan.js').PatchConvOverride;
const { countDispatches, describeDevice, GPU_TIMING, measureBenchPeaks, SMOKE_GPU_TIMING, steadyGpuTime } =
  await import('./support/webgpu_bench.js');

type Tensor = InstanceType<typeof tf.Tensor>;
type Impl = 'stock' | 'stock+fusedLN' | 'fused';

if (!(await tf.setBackend('webgpu'))) throw new Error('webgpu backend failed to start (no adapter?)');
await tf.ready();
tf.env().set('WEBGPU_CPU_FORWARD', false);
const backend = tf.backend() as InstanceType<typeof WebGPUBackend>;
const adapterInfo = (backend as unknown as { adapterInfo?: unknown }).adapterInfo;
console.log(describeDevice(backend));
const peaks = await measureBenchPeaks(backend.device, smoke);
const dispatchCounter = countDispatches(backend);

interface Shape { name: string; h: number; cin: number; cout: number; k: number; preNorm: boolean }
/** ConvNeXt-T 224x224: the stem (no LayerNorm before it) and the three downsample layers (LayerNorm first). */
const SHAPES: Shape[] = smoke ?
  [{ name: 'stem', h: 16, cin: 3, cout: 12, k: 4, preNorm: false },
    { name: 'down1', h: 8, cin: 12, cout: 24, k: 2, preNorm: true },
    // K = 512 in 16 slices: the automatic split-K rule splits it at N=1 and 2 (--splitk).
    { name: 'down3', h: 4, cin: 128, cout: 32, k: 2, preNorm: true }] :
  [{ name: 'stem', h: 224, cin: 3, cout: 96, k: 4, preNorm: false },
    { name: 'down1', h: 56, cin: 96, cout: 192, k: 2, preNorm: true },
    { name: 'down2', h: 28, cin: 192, cout: 384, k: 2, preNorm: true },
    { name: 'down3', h: 14, cin: 384, cout: 768, k: 2, preNorm: true }];
const BATCHES = cli.batches ?? PATCH_CONV_DEFAULT_BATCHES(smoke);
const WALL_REPEATS = smoke ? 2 : 50;

/** GPU time per call in steady state (bench/support/webgpu_bench.ts steadyGpuTime). */
function gpuTime(f: () => Tensor): Promise<number> {
  return steadyGpuTime(f, smoke ? SMOKE_GPU_TIMING : GPU_TIMING);
}

async function measure(f: () => Tensor): Promise<{ gpuMs: number; wallMs: number; dispatches: number }> {
  for (let i = 0; i < 3; i++) { const y = f(); await y.data(); y.dispose(); }
  dispatchCounter.reset();
  const y0 = f();
  const dispatches = dispatchCounter.count;
  await y0.data();
  y0.dispose();
  return { ...await measureRound(f), dispatches };
}

function call(impl: Impl, s: Shape, x: Tensor, w: Record<string, Tensor>): () => Tensor {
  if (impl === 'fused') {
    return () => lib.patchConv(x as never, w.filter as never, w.bias as never,
      s.preNorm ? { preNorm: { gamma: w.gamma, beta: w.beta } } : {});
  }
  return () => tf.tidy(() => {
    let xn = x;
    if (s.preNorm) {
      xn = impl === 'stock' ? layerNormReference({ x, gamma: w.gamma as never, beta: w.beta as never }, { epsilon: 1e-6 }) :
        lib.layerNorm(x, w.gamma, w.beta);
    }
    return tf.add(tf.conv2d(xn as never, w.filter as never, s.k, 'valid'), w.bias);
  });
}

/** FLOPs (the GEMM; LayerNorm ~7 per input element) and compulsory bytes (x, y, weights once). */
function cost(s: Shape, n: number) {
  const ho = Math.floor(s.h / s.k);
  const m = n * ho * ho;
  const depth = s.k * s.k * s.cin;
  const flops = 2 * m * depth * s.cout + (s.preNorm ? 7 * n * s.h * s.h * s.cin : 0);
  const bytes = 4 * (n * s.h * s.h * s.cin + m * s.cout + depth * s.cout + s.cout + (s.preNorm ? 2 * s.cin : 0));
  return { flops, bytes };
}

const fmt = (v: number, p = 3) => v.toFixed(p).padStart(8);
const rows: Record<string, unknown>[] = [];
const sweepRows: Record<string, unknown>[] = [];
/** `f` under a patch conv override (null: the automatic plan). */
function withOverride(o: Parameters<typeof tuning.setPatchConvOverride>[0], f: () => Tensor): () => Tensor {
  if (o == null) return f;
  return () => {
    tuning.setPatchConvOverride(o);
    try { return f(); } finally { tuning.setPatchConvOverride(null); }
  };
}

/**
 * --splitk: per shape and N, stock (+ FusedLayerNorm), fused (automatic S) and fused with each valid forced S,
 * all measured in every round, rounds interleaved over the whole set, variant order rotated per round.
 */
async function splitComparison(): Promise<void> {
  const splitList = cli.splits ?? (smoke ? [1, 2, 4] : [1, 2, 4, 8, 16]);
  const gemmSplitList = cli.gemmSplits ?? (smoke ? [1, 2] : [1, 2, 3, 4]);
  // --gemm-tiles: bm x bn x tm x tn4 (rowVec4, unrolled, bk 16) forced on the GEMM path, the rule's splits.
  const gemmTiles = (cli.gemmTiles ?? []).map((spec) => {
    const [bm, bn, tm, tn4] = spec.split('x').map(Number);
    return { name: `gemm tile ${bm}x${bn} ${tm}x${4 * tn4}`, tile: rowVec4Tile(bm, bn, 16, tm, tn4) };
  });
  const rounds = cli.rounds ?? 3;
  const wanted = cli.shapes;
  interface Variant { shape: Shape; n: number; name: string; kSplits: number | null; f: () => Tensor;
    plan: unknown; dispatches: number; maxAbsDiff: number; gpuMs: number[]; wallMs: number[] }
  const groups: Variant[][] = [];
  const tensors: Tensor[] = [];
  for (const s of SHAPES.filter((sh) => wanted == null || wanted.includes(sh.name))) {
    const w = patchConvWeights(s.k, s.cin, s.cout);
    tensors.push(...Object.values(w));
    for (const n of BATCHES) {
      const x = tf.randomNormal([n, s.h, s.h, s.cin], 0, 1, 'float32', 5);
      tensors.push(x);
      const stock = call('stock', s, x, w);
      const group: Variant[] = [];
      // 'fused S=k': the direct kernel with S forced; 'gemm S=k': the GEMM path (patch_conv_gemm.ts) with S forced.
      type Override = Parameters<typeof tuning.setPatchConvOverride>[0];
      const impls: [string, Impl, number | null, Override][] = [['stock', 'stock', null, null],
        ...(s.preNorm ? [['stock+fusedLN', 'stock+fusedLN', null, null] as [string, Impl, null, null]] : []),
        ['fused auto', 'fused', null, null], ['direct auto', 'fused', null, { gemm: false }],
        // The GEMM path with the downsample's LayerNorm always its own dispatch (the folded norm's A/B).
        ...(s.preNorm ? [['gemm LN disp', 'fused', null, { gemmFoldedNorm: false }] as [string, Impl, null, Override]] : []),
        ...splitList.map((sp) => [`fused S=${sp}`, 'fused', sp, { kSplits: sp }] as [string, Impl, number, Override]),
        // Downsamples: the LayerNorm folded wherever S allows (forced; the rule folds small GEMMs only).
        ...gemmSplitList.map((sp) => [`gemm S=${sp}`, 'fused', sp,
          { gemm: true, gemmSplits: sp, ...(s.preNorm ? { gemmFoldedNorm: true } : {}) }] as [string, Impl, number, Override]),
        ...(s.preNorm ? gemmSplitList.map((sp) => [`gemm S=${sp} LN`, 'fused', sp,
          { gemm: true, gemmSplits: sp, gemmFoldedNorm: false }] as [string, Impl, number, Override]) : []),
        ...gemmTiles.map(({ name, tile }) => [name, 'fused', null, { gemm: true, gemmTile: tile }] as [string, Impl, null, Override])];
      for (const [name, impl, kSplits, override] of impls) {
        const f = withOverride(override, call(impl, s, x, w));
        let plan: unknown = null;
        if (impl === 'fused') {
          f().dispose();
          const d = tuning.lastPatchConvDecision();
          if (d == null || !d.ok) {
            console.log(`${s.name} N${n} ${name}: skipped (${d?.ok === false ? d.reason : 'no decision'})`);
            continue;
          }
          const forcedTile = override?.gemmTile;
          const t = d.plan.gemm?.tile;
          if (forcedTile != null && (t == null || t.bm !== forcedTile.bm || t.bn !== forcedTile.bn ||
              t.tm !== forcedTile.tm || t.tn4 !== forcedTile.tn4)) {
            console.log(`${s.name} N${n} ${name}: skipped (the tile does not fit this shape)`);
            continue;
          }
          plan = d.plan;
        }
        // Warm (compile, fold the weights), then count the dispatches of one call in steady state.
        for (let i = 0; i < 2; i++) { const y = f(); await y.data(); y.dispose(); }
        dispatchCounter.reset();
        const y = f();
        const dispatches = dispatchCounter.count;
        await y.data();
        y.dispose();
        const maxAbsDiff = impl === 'stock' ? 0 : await maxAbsDiffFrom(stock, f);
        group.push({ shape: s, n, name, kSplits, f, plan, dispatches, maxAbsDiff, gpuMs: [], wallMs: [] });
      }
      groups.push(group);
    }
  }
  const all = groups.flat();
  for (let r = 0; r < rounds; r++) {
    for (const group of groups) {
      // Rotate the order so no variant always runs right after stock's many small programs.
      const order = group.map((_, i) => group[(i + r) % group.length]);
      for (const v of order) {
        const m = await measureRound(v.f);
        v.gpuMs.push(m.gpuMs);
        v.wallMs.push(m.wallMs);
      }
    }
    console.log(`round ${r + 1} of ${rounds} done (${all.length} variants)`);
  }
  console.log(`\nsplit-K comparison, ${rounds} interleaved rounds; GPU = steady-state timestamp time per call, wall = ` +
    `${WALL_REPEATS} calls queued + one read-back, per call; x stock, x S=1: by median GPU time`);
  console.log('shape  N   variant          S  wgs  disp  gpu min  gpu med  wall min wall med  x stock     x S=1  max|d|');
  for (const group of groups) {
    const stockMedian = median(group[0].gpuMs);
    const unsplit = group.find((v) => v.kSplits === 1);
    for (const v of group) {
      const p = v.plan as { kSplits?: number; workgroups?: number; tiling?: unknown; splitDepth?: number;
        gemm?: { kSplits: number; workgroups: number; tile: unknown } } | null;
      const row = { shape: v.shape.name, n: v.n, variant: v.name, forcedSplits: v.kSplits,
        path: p == null ? null : p.gemm != null ? 'gemm' : 'direct', kSplits: p?.gemm?.kSplits ?? p?.kSplits ?? null,
        workgroups: p?.gemm?.workgroups ?? p?.workgroups ?? null, splitDepth: p?.splitDepth ?? null, dispatches: v.dispatches, gpuMs: v.gpuMs,
        gpuMin: Math.min(...v.gpuMs), gpuMedian: median(v.gpuMs), wallMs: v.wallMs, wallMin: Math.min(...v.wallMs),
        wallMedian: median(v.wallMs), speedupVsStock: stockMedian / median(v.gpuMs),
        speedupVsUnsplit: unsplit == null ? null : median(unsplit.gpuMs) / median(v.gpuMs), maxAbsDiff: v.maxAbsDiff,
        tiling: p?.tiling ?? null, gemmTile: p?.gemm?.tile ?? null };
      rows.push(row);
      console.log(`${row.shape.padEnd(6)} ${String(v.n).padStart(2)}  ${v.name.padEnd(14)} ${String(row.kSplits ?? '-').padStart(3)} ` +
        `${String(row.workgroups ?? '-').padStart(4)} ${String(v.dispatches).padStart(5)} ${fmt(row.gpuMin)} ${fmt(row.gpuMedian)} ` +
        `${fmt(row.wallMin)} ${fmt(row.wallMedian)} ${fmt(row.speedupVsStock, 2)}x ` +
        `${row.speedupVsUnsplit == null ? '       -' : fmt(row.speedupVsUnsplit, 2)}x ${v.maxAbsDiff.toExponential(1)}`);
    }
  }
  tf.dispose(tensors);
}

/** Steady-state GPU time and wall time per call (one round of a variant). */
async function measureRound(f: () => Tensor): Promise<{ gpuMs: number; wallMs: number }> {
  const gpuMs = await gpuTime(f);
  // Wall time: calls queued back to back, one read-back at the end, per call (CPU encode cost included).
  const t0 = performance.now();
  let last: Tensor | null = null;
  for (let i = 0; i < WALL_REPEATS; i++) { last?.dispose(); last = f(); }
  const probe = tf.slice(last as Tensor, [0, 0, 0, 0], [1, 1, 1, 1]);
  await probe.data();
  const wallMs = (performance.now() - t0) / WALL_REPEATS;
  probe.dispose();
  (last as Tensor).dispose();
  return { gpuMs, wallMs };
}

/** The default table (stock, stock+fusedLN, fused per shape and N; --sweep: forced tilings at the largest N). */
async function stockComparison(): Promise<void> {
  console.log('\nshape  impl            N    gpu ms  wall ms  disp  TFLOP/s floor(c) floor(m)  speedup(gpu, wall)');
  for (const s of SHAPES) {
    const w = patchConvWeights(s.k, s.cin, s.cout);
    for (const n of BATCHES) {
      const x = tf.randomNormal([n, s.h, s.h, s.cin], 0, 1, 'float32', 5);
      const { flops, bytes } = cost(s, n);
      const computeFloorMs = flops / (peaks.fmaTflops * 1e12) * 1e3;
      const memoryFloorMs = bytes / (peaks.copyGBps * 1e9) * 1e3;
      const maxAbsDiff = await maxAbsDiffFrom(call('stock', s, x, w), call('fused', s, x, w));
      const decision = (() => { call('fused', s, x, w)().dispose(); return tuning.lastPatchConvDecision(); })();
      const impls: Impl[] = s.preNorm ? ['stock', 'stock+fusedLN', 'fused'] : ['stock', 'fused'];
      const base: Record<string, { gpuMs: number; wallMs: number }> = {};
      for (const impl of impls) {
        const m = await measure(call(impl, s, x, w));
        base[impl] = m;
        const tflops = flops / (m.gpuMs * 1e-3) / 1e12;
        const row: Record<string, unknown> = { shape: s.name, h: s.h, cin: s.cin, cout: s.cout, k: s.k, preNorm: s.preNorm,
          impl, n, ...m, tflops, peakTflops: peaks.fmaTflops, computeFloorMs, memoryFloorMs };
        let extra = '';
        if (impl === 'fused') {
          const best = s.preNorm ? base['stock+fusedLN'] : base.stock;
          row.speedupVsStock = base.stock.gpuMs / m.gpuMs;
          row.speedupVsBest = best.gpuMs / m.gpuMs;
          row.maxAbsDiff = maxAbsDiff;
          row.tiling = decision?.ok ? decision.plan.tiling : decision;
          row.kSplits = decision?.ok ? decision.plan.kSplits : null;
          extra = ` ${fmt(base.stock.gpuMs / m.gpuMs, 2)}x ${fmt(base.stock.wallMs / m.wallMs, 2)}x` +
            (s.preNorm ? ` (vs stock+fusedLN ${(best.gpuMs / m.gpuMs).toFixed(2)}x)` : '') +
            ` max|fused-stock| ${maxAbsDiff.toExponential(1)} split-K S ${row.kSplits} ${JSON.stringify(row.tiling)}`;
        }
        rows.push(row);
        console.log(`${s.name.padEnd(6)} ${impl.padEnd(14)} ${String(n).padStart(3)} ${fmt(m.gpuMs)} ${fmt(m.wallMs)} ` +
          `${String(m.dispatches).padStart(5)} ${fmt(tflops, 2)} ${fmt(computeFloorMs)} ${fmt(memoryFloorMs)}${extra}`);
      }
      if (n === cli.sweepBatch) {
        const f = call('fused', s, x, w);
        const decide = (o: PatchConvOverride) => {
          withOverride(o, f)().dispose();
          return tuning.lastPatchConvDecision();
        };
        const time = (o: PatchConvOverride) => gpuTime(withOverride(o, f));
        for (const r of await sweepForcedTilings(PATCH_SWEEP_VARIANTS, decide, time)) {
          if ('skipped' in r) {
            console.log(`  sweep ${s.name} N${n} ${r.variant.padEnd(12)} skipped (${r.skipped})`);
            continue;
          }
          sweepRows.push({ shape: s.name, n, variant: r.variant, gpuMs: r.gpuMs, tflops: flops / r.gpuMs / 1e9, tiling: r.tiling });
          console.log(`  sweep ${s.name} N${n} ${r.variant.padEnd(12)} ${fmt(r.gpuMs)} ms ${fmt(flops / r.gpuMs / 1e9, 2)} ` +
            `TFLOP/s ${JSON.stringify(r.tiling)}`);
        }
      }
      x.dispose();
    }
    tf.dispose(Object.values(w));
  }
}

if (splitK) await splitComparison();
else await stockComparison();

if (jsonFile) {
  writeJsonFile(jsonFile, { date: new Date().toISOString(), adapter: adapterInfo, peaks, rows, sweep: sweepRows });
  console.log(`wrote ${rows.length} rows to ${jsonFile}`);
}
process.exit(0);
