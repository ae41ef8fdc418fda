/**
 * `npm run bench:models`: whole-model inference on WebGPU in Node through Dawn (the `webgpu` package),
 * side by side in one run: ConvNeXt-T as stock TF.js ops, ConvNeXt-T with fused blocks, ConvFirstNet-T
 * with fused blocks; 224x224, batch 1 and 32. All three are GraphModels written by the converter's writer
 * and loaded with tf.loadGraphModel, as a web app would.
 *
 *   npm run bench:models -- [--json FILE] [--cpu-profile DIR] [--smoke] [--configs stock,fused,...] [--dispatches]
 *                           [--dawn-enable LIST] [--dawn-disable LIST]
 *
 * Per model and batch, the models of a batch interleaved in ROUNDS rounds: GPU time (timestamp queries, tf.time
 * kernelMs; each round after RAMP_MS of back-to-back inferences so the GPU runs at its working clocks; best over
 * all rounds, median also recorded), wall time per inference (input upload + predict + `await data()`, one
 * inference at a time, mean over all rounds), dispatches per inference,
 * FLOPs (src/analysis countModelCost: multiply-add = 2 FLOPs, fused ops count the layers they replace),
 * achieved TFLOP/s on GPU time and % of the FMA peak measured in the same run (measureDevicePeaks).
 * Wall phases: upload, predict (CPU side of the executor and kernels), read (`await data()`), and the same loop with
 * the input uploaded by the package's WebGPUInputUploader. --cpu-profile DIR writes a V8 profile of each model's first-round
 * tfjs-upload wall loop. --dispatches prints (and writes to the JSON) every model's GPU ms per dispatch (stock too) with
 * its shader key, best of DISPATCH_REPEATS calls, after the timed rounds: where a model's time goes.
 * --smoke: the atto variant at 32x32, batch 1 and 2, one repeat: a functional check for SwiftShader on
 * a CPU-only machine, not a timing.
 */
import { parseCommandLine } from './support/args.js';
import { writeJsonFile } from './support/json_output.js';
import { MODELS_COMMAND } from './support/bench_args.js';
import { ALL_CONFIGS } from './support/model_configs.js';
import { interleavedRounds } from './support/rounds.js';
import { compareWithStock } from './support/stock_comparison.js';
import { median } from '../src/analysis/stats.js';

// The command line is checked (--help, unknown options or --configs keys: exit) before any device work.
const { smoke, jsonFile, profileDir, configKeys, dispatches, dawnToggles } = parseCommandLine(MODELS_COMMAND);

// Dawn must provide navigator.gpu before tfjs-backend-webgpu is evaluated (it registers itself on import);
// with no Vulkan driver named, Chromium's SwiftShader is used where this machine has it (a CPU-only machine).
const { setupNodeWebGPU } = await import('../src/node/webgpu_setup.js');
await setupNodeWebGPU({ preferSwiftShader: true, dawnToggles });
const tf = await import('@tensorflow/tfjs-core');
const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
const { loadGraphModel } = await import('@tensorflow/tfjs-converter');
await import('../src/index.js');
const { buildModel, buildModelGraph } = await import('../models/index.js');
const { toModelArtifacts, writeGraphModel } = await import('../src/converter/graphmodel_writer.js');
const { fuseBlocks } = await import('../src/converter/fusion.js');
const { countModelCost } = await import('../src/analysis/cost_model.js');
const { rampClocks } = await import('../src/analysis/profiler.js');
const { countDispatches, describeDevice, measureBenchPeaks, perDispatchGpuMs } = await import('./support/webgpu_bench.js');
const { meanPhases, withCpuProfile } = await import('./support/wall_phases.js');
type Phases = import('./support/wall_phases.js').Phases;
const { WebGPUInputUploader } = await import('../src/runtime/webgpu_input_uploader.js');
// Benchmark-only knobs (per-configuration A/Bs: the patch GEMM path off, rolled GEMM loops); not package API.
const { setClassifierHeadLanes, setClassifierHeadRows, setPatchConvOverride, setTilingOverride } =
  await import('../src/kernels/webgpu/index.js');
const { rowVec4Tile } = await import('../src/kernels/webgpu/gemm_wgsl.js');

type Tensor = InstanceType<typeof tf.Tensor>;

/** `--configs a,b` (keys of ALL_CONFIGS, bench/support/model_configs.ts; stock first): a subset; default all. */
const CONFIGS = ALL_CONFIGS.filter((c) => configKeys == null || configKeys.includes(c.key));
const VARIANT = smoke ? 'atto' : 'tiny';
const SIZE = smoke ? 32 : 224;
const BATCHES = smoke ? [1, 2] : [1, 32];
const WARMUP = smoke ? 0 : 10;
/**
 * Rounds over the models of one batch size, interleaved (round 1: every model, round 2: every model, ...): a
 * model's row is its best GPU reading and its mean wall time over all rounds, so a slow spell of the host or of
 * the GPU's clocks falls on every model instead of on whichever ran during it (single-pass runs read the fused
 * N=1 rows 1.4-2.1x slow in some runs).
 */
const ROUNDS = smoke ? 1 : 3;
/** Per round. */
const GPU_REPEATS = smoke ? 1 : 10;
/** Back-to-back inferences before GPU timing: single N=1 inferences with idle gaps read up to 1.8x slower. */
const RAMP_MS = smoke ? 0 : 400;
/** Per round. */
const WALL_REPEATS = smoke ? 1 : 10;
const SEED = 1;
const DISPATCH_PROFILE = dispatches;
const DISPATCH_REPEATS = smoke ? 1 : 10;

interface Row {
  model: string; family: string; variant: string; fused: boolean; n: number; inputSize: number; params: number;
  flops: number; gpuMs: number; gpuMedianMs: number; wallMs: number; wallMinMs: number;
  /** Mean time per phase of the wall loop (tfjs's own upload of a CPU tensor). */
  wallPhases: Phases;
  /** The same loop with the input uploaded by WebGPUInputUploader (persistent mapped staging buffers). */
  stagedWallMs: number; stagedWallMinMs: number; stagedWallPhases: Phases;
  dispatches: number; tflops: number;
  pctPeak: number; gpuSpeedupVsStock: number; wallSpeedupVsStock: number; maxAbsDiffVsStock: number | null;
  /** --dispatches: GPU ms of each dispatch in run order, with the program's shader key. */
  dispatchProfile?: { program: string; key: string; ms: number }[];
}

if (!(await tf.setBackend('webgpu'))) throw new Error('webgpu backend failed to start (no adapter?)');
await tf.ready();
const backend = tf.backend() as InstanceType<typeof WebGPUBackend>;
const device = backend.device;
const adapterInfo = (backend as unknown as { adapterInfo?: unknown }).adapterInfo;
const hasTimestamps = device.features.has('timestamp-query');
console.log(describeDevice(backend, `; WEBGPU_CPU_FORWARD ${tf.env().getBool('WEBGPU_CPU_FORWARD')} ` +
  '(the default a web app runs with)'));
const peaks = await measureBenchPeaks(device, smoke);
const dispatchCounter = countDispatches(backend);
const uploader = new WebGPUInputUploader(backend);

function images(n: number, seed: number): Float32Array<ArrayBuffer> {
  // A fixed pseudo-random image batch (values in [-2, 2)), uploaded afresh for every inference.
  const out = new Float32Array(n * SIZE * SIZE * 3);
  let s = seed >>> 0;
  for (let i = 0; i < out.length; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; out[i] = s / 2 ** 30 - 2; }
  return out;
}

type Model = Awaited<ReturnType<typeof loadGraphModel>>;

/** One inference as a web app runs it: upload, predict, read back; timed by phase. */
async function infer(model: Model, input: Float32Array<ArrayBuffer>, n: number, upload: 'tfjs' | 'staged' = 'tfjs'):
  Promise<{ data: Float32Array; phases: Phases }> {
  const t0 = performance.now();
  let x: Tensor;
  if (upload === 'staged') {
    x = uploader.upload(input, [n, SIZE, SIZE, 3]);
  } else {
    x = tf.tensor4d(input, [n, SIZE, SIZE, 3]);
    backend.uploadToGPU(x.dataId); // what the first kernel would do; done here so the phase is timed apart
  }
  const t1 = performance.now();
  const y = model.predict(x) as Tensor;
  const t2 = performance.now();
  const data = await y.data() as Float32Array;
  const t3 = performance.now();
  tf.dispose([x, y]);
  return { data, phases: { uploadMs: t1 - t0, predictMs: t2 - t1, readMs: t3 - t2 } };
}

/** `reps` inferences one at a time; every wall time and phase split. */
async function wallLoop(model: Model, input: Float32Array<ArrayBuffer>, n: number, upload: 'tfjs' | 'staged', reps: number) {
  const wall: number[] = [];
  const phases: Phases[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const r = await infer(model, input, n, upload);
    wall.push(performance.now() - t0);
    phases.push(r.phases);
  }
  return { wall, phases };
}

/** Warm-up, dispatch count, reference logits, and the uploader path checked against tfjs's upload. */
async function prepare(model: Model, n: number) {
  const input = images(n, 1234 + n);
  for (let i = 0; i < WARMUP; i++) await infer(model, input, n);
  const x = tf.tensor4d(input, [n, SIZE, SIZE, 3]);
  dispatchCounter.reset();
  const y0 = model.predict(x) as Tensor;
  const dispatches = dispatchCounter.count;
  const logits = await y0.data() as Float32Array;
  y0.dispose();
  for (let i = 0; i < 3; i++) {
    const { data } = await infer(model, input, n, 'staged');
    // Same inputs, same kernels: the uploader's path must give the logits of tfjs's own upload.
    const diff = data.reduce((m, v, j) => Math.max(m, Math.abs(v - logits[j])), 0);
    if (!(diff <= 1e-5)) throw new Error(`WebGPUInputUploader path differs from tfjs's upload by ${diff}`);
  }
  return { input, x, dispatches, logits };
}

/** One round of GPU timing: RAMP_MS of back-to-back inferences, then GPU_REPEATS timed ones (timestamp sums). */
async function gpuRound(model: Model, x: Tensor): Promise<number[]> {
  await rampClocks(() => model.predict(x) as Tensor, RAMP_MS);
  const gpu: number[] = [];
  for (let i = 0; i < GPU_REPEATS; i++) {
    let y: Tensor | null = null;
    const info = await tf.time(() => { y = model.predict(x) as Tensor; });
    await (y as Tensor | null)?.data();
    (y as Tensor | null)?.dispose();
    gpu.push(info.kernelMs as number);
  }
  return gpu;
}

/** --dispatches: each dispatch's best GPU ms over DISPATCH_REPEATS calls, named by its shader key. */
async function dispatchProfile(model: Model, x: Tensor): Promise<{ program: string; key: string; ms: number }[]> {
  dispatchCounter.reset();
  (model.predict(x) as Tensor).dispose();
  const keys = [...dispatchCounter.keys];
  const timed = await perDispatchGpuMs(() => model.predict(x) as Tensor, DISPATCH_REPEATS);
  if (timed.length !== keys.length) throw new Error(`--dispatches: ${timed.length} timed programs for ${keys.length} dispatches`);
  return timed.map((t, i) => ({ program: t.name, key: keys[i], ms: t.ms }));
}

const SUBMIT_BATCH_FLAG = 'WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE';

/** Runs `work` as configuration `i` runs (its kernel overrides on, then off again). */
async function as<T>(i: number, work: () => Promise<T>): Promise<T> {
  if (CONFIGS[i].directPatchConvs) setPatchConvOverride({ gemm: false });
  if (CONFIGS[i].unfoldedNorm) setPatchConvOverride({ gemmFoldedNorm: false });
  if (CONFIGS[i].patchTile64) setPatchConvOverride({ gemmTile: rowVec4Tile(64, 96, 16, 4, 3) });
  if (CONFIGS[i].rolledGemms) {
    setPatchConvOverride({ gemmUnrolled: false });
    setTilingOverride({ gemmUnrolled: { expand: false, project: false } });
  }
  if (CONFIGS[i].expand4x8) setTilingOverride({ gemmExpand: rowVec4Tile(64, 128, 16, 4, 2) });
  if (CONFIGS[i].unpaired) setTilingOverride({ pairedSplits: false });
  if (CONFIGS[i].convRows) setTilingOverride({ convRowLoop: false });
  if (CONFIGS[i].headRows != null) setClassifierHeadRows(CONFIGS[i].headRows!);
  if (CONFIGS[i].headLanes != null) setClassifierHeadLanes(CONFIGS[i].headLanes!);
  const submitBatch = tf.env().get(SUBMIT_BATCH_FLAG);
  if (CONFIGS[i].submitBatch != null) tf.env().set(SUBMIT_BATCH_FLAG, CONFIGS[i].submitBatch!);
  try { return await work(); } finally {
    setPatchConvOverride(null); setTilingOverride(null); setClassifierHeadRows(null); setClassifierHeadLanes(null);
    tf.env().set(SUBMIT_BATCH_FLAG, submitBatch);
  }
}

/** Every model of one batch size, GPU time and wall time each in ROUNDS interleaved rounds. */
async function measureBatch(n: number) {
  const progress = (line: string) => console.error(`[N=${n}] ${line}`);
  const prepared: Awaited<ReturnType<typeof prepare>>[] = [];
  progress(`warm-up, dispatch count and uploader check of ${models.length} model(s)`);
  for (const [i, model] of models.entries()) prepared.push(await as(i, () => prepare(model, n)));
  const gpu = models.map(() => [] as number[]);
  await interleavedRounds(models.length, ROUNDS, 'GPU time', progress, async (i) => {
    gpu[i].push(...await as(i, () => gpuRound(models[i], prepared[i].x)));
  });
  const wall = models.map(() => ({ wall: [] as number[], phases: [] as Phases[] }));
  const staged = models.map(() => ({ wall: [] as number[], phases: [] as Phases[] }));
  await interleavedRounds(models.length, ROUNDS, 'wall time', progress, async (i, r) => {
    const { input } = prepared[i];
    // --cpu-profile: the first round's tfjs-upload loop of each model, KEY-nN.cpuprofile (keys are unique).
    const name = `${CONFIGS[i].key}-n${n}`;
    const w = await as(i, () => withCpuProfile(r === 0 ? profileDir : null, name,
      () => wallLoop(models[i], input, n, 'tfjs', WALL_REPEATS)));
    wall[i].wall.push(...w.wall); wall[i].phases.push(...w.phases);
    const st = await as(i, () => wallLoop(models[i], input, n, 'staged', WALL_REPEATS));
    staged[i].wall.push(...st.wall); staged[i].phases.push(...st.phases);
  });
  const profiles: ({ program: string; key: string; ms: number }[] | undefined)[] = [];
  if (DISPATCH_PROFILE && hasTimestamps) progress('per-dispatch GPU times');
  for (const [i, model] of models.entries()) {
    profiles.push(DISPATCH_PROFILE && hasTimestamps ?
      await as(i, () => dispatchProfile(model, prepared[i].x)) : undefined);
  }
  for (const p of prepared) p.x.dispose();
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  return models.map((_, i) => ({
    gpuMs: Math.min(...gpu[i]), gpuMedianMs: median(gpu[i]),
    wallMs: mean(wall[i].wall), wallMinMs: Math.min(...wall[i].wall), phases: meanPhases(wall[i].phases),
    stagedWallMs: mean(staged[i].wall), stagedWallMinMs: Math.min(...staged[i].wall),
    stagedPhases: meanPhases(staged[i].phases), dispatches: prepared[i].dispatches, logits: prepared[i].logits,
    dispatchProfile: profiles[i],
  }));
}

/** The per-dispatch table: run order, GPU ms, share of the sum, program class and shader key. */
function printDispatchProfile(profile: { program: string; key: string; ms: number }[]) {
  const total = profile.reduce((a, d) => a + d.ms, 0);
  console.log(`    per dispatch (best of ${DISPATCH_REPEATS}; sum ${total.toFixed(3)} ms):`);
  for (const [i, d] of profile.entries()) {
    console.log(`      ${String(i).padStart(3)} ${d.ms.toFixed(4).padStart(8)} ${(100 * d.ms / total).toFixed(1).padStart(5)}%  ` +
      `${d.program.padEnd(22)} ${d.key.length > 110 ? d.key.slice(0, 107) + '...' : d.key}`);
  }
}

const rows: Row[] = [];
const fmt = (v: number, p = 2) => v.toFixed(p).padStart(8);
console.log(`\n${VARIANT} ${SIZE}x${SIZE}, timestamps ${hasTimestamps ? 'on' : 'OFF (gpu ms unavailable)'}`);
console.log('model                 N    params  GFLOPs   gpu ms  wall ms  (min)  disp  TFLOP/s  %peak  x gpu  x wall  max|d| vs stock');
// Every model loaded first, then batch by batch, each batch's models interleaved in ROUNDS rounds (measureBatch).
const models: Model[] = [];
console.error(`building ${CONFIGS.length} model(s): ${CONFIGS.map((c) => c.key).join(', ')}`);
for (const cfg of CONFIGS) {
  const files = cfg.patchConvs === false || cfg.classifierHead === false || cfg.stemNormApart ?
    // The converter's passes on the stock graph with the patch conv, the head or the post-norm pass off.
    writeGraphModel(fuseBlocks(buildModelGraph(cfg.family, VARIANT, { fused: false, seed: SEED, inputSize: SIZE }),
      { patchConvs: cfg.patchConvs !== false, classifierHead: cfg.classifierHead !== false,
        patchConvPostNorms: !cfg.stemNormApart }).graph) :
    buildModel(cfg.family, VARIANT, { fused: cfg.fused, seed: SEED, inputSize: SIZE }).files;
  models.push(await loadGraphModel(tf.io.fromMemory(toModelArtifacts(files))));
}
for (const n of BATCHES) {
  const measured = await measureBatch(n);
  const vsStock = compareWithStock(CONFIGS, measured);
  for (const [ci, cfg] of CONFIGS.entries()) {
    const model = models[ci];
    const cost = await countModelCost(model, [n, SIZE, SIZE, 3]);
    const m = measured[ci];
    const tflops = cost.flops / (m.gpuMs * 1e-3) / 1e12;
    const vs = vsStock[ci];
    const maxAbsDiff = vs.maxAbsDiffVsStock;
    if ((cfg.patchConvs === false || cfg.classifierHead === false || cfg.stemNormApart) && maxAbsDiff != null &&
      maxAbsDiff > 1e-3) {
      throw new Error(`${cfg.label} N=${n}: logits differ from stock by ${maxAbsDiff}`);
    }
    const row: Row = {
      model: `${cfg.label}`, family: cfg.family, variant: VARIANT, fused: cfg.fused, n, inputSize: SIZE,
      params: cost.params, flops: cost.flops, gpuMs: m.gpuMs, gpuMedianMs: m.gpuMedianMs, wallMs: m.wallMs, wallMinMs: m.wallMinMs,
      wallPhases: m.phases, stagedWallMs: m.stagedWallMs, stagedWallMinMs: m.stagedWallMinMs, stagedWallPhases: m.stagedPhases,
      dispatches: m.dispatches, tflops, pctPeak: 100 * tflops / peaks.fmaTflops,
      ...vs, dispatchProfile: m.dispatchProfile,
    };
    rows.push(row);
    console.log(`${row.model.padEnd(20)} ${String(n).padStart(2)} ${(row.params / 1e6).toFixed(2).padStart(8)}M` +
      `${fmt(row.flops / 1e9)} ${fmt(row.gpuMs, 3)} ${fmt(row.wallMs, 3)} ${fmt(row.wallMinMs, 1)} ` +
      `${String(row.dispatches).padStart(5)} ${fmt(row.tflops, 3)} ${fmt(row.pctPeak, 1)} ` +
      `${fmt(row.gpuSpeedupVsStock)} ${fmt(row.wallSpeedupVsStock)}  ${maxAbsDiff == null ? '-' : maxAbsDiff.toExponential(2)}`);
    const ph = (p: Phases) => `upload ${p.uploadMs.toFixed(2)} + predict ${p.predictMs.toFixed(2)} + read ${p.readMs.toFixed(2)} ms`;
    console.log(`    wall phases (tfjs upload): ${ph(row.wallPhases)}; WebGPUInputUploader: wall ${row.stagedWallMs.toFixed(2)} ` +
      `(min ${row.stagedWallMinMs.toFixed(2)}) = ${ph(row.stagedWallPhases)}`);
    if (row.dispatchProfile) printDispatchProfile(row.dispatchProfile);
  }
}
for (const model of models) model.dispose();

const leaked = tf.memory().numTensors;
console.log(`\ntensors alive at the end: ${leaked}`);
if (jsonFile) {
  writeJsonFile(jsonFile, { date: new Date().toISOString(), smoke, adapter: adapterInfo,
    timestampQuery: hasTimestamps, dawnToggles, cpuForward: tf.env().getBool('WEBGPU_CPU_FORWARD'), peaks,
    repeats: { warmup: WARMUP, rounds: ROUNDS, gpuPerRound: GPU_REPEATS, wallPerRound: WALL_REPEATS }, rows });
  console.log(`wrote ${jsonFile}`);
}
