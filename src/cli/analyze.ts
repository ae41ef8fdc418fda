/**
 * `tfjs-block-fusion analyze <model.json | dir>... [options]`: profile GraphModels on one backend and write
 * DIR/analysis.json plus the efficiency gap, waterline and roofline SVGs. Node-only.
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { analyzeModels, checkInputShape, type ModelEntry } from '../analysis/analyze.js';
import { measureDevicePeaks } from '../analysis/microbench.js';
import { measureJsPeaks, measureWebGPUPeaks, userPeaks } from '../analysis/peaks.js';
import { ANALYSIS_FIGURE_FILES, ANALYSIS_JSON, analysisOutputFiles } from '../analysis/output_files.js';
import type { DevicePeaks } from '../analysis/roofline.js';
import { loadGraphModelFromFile } from '../node/graph_model_file.js';
import { setupNodeWebGPU, webgpuUnavailableReason } from '../node/webgpu_setup.js';
import { quietCpuBackendBanner } from './cpu_backend.js';
import { checkGraphModelFiles, looksLikeJson, readModelFile, resolveModelPath } from './files.js';
import { splitOption, switchValueProblem } from './options.js';
import { folderWriteProblem } from './output_path.js';

export const USAGE = `usage: tfjs-block-fusion analyze <model.json | dir>... [options]

Profiles each TF.js GraphModel for one inference (GPU timestamp queries on webgpu, wall time per kernel
on cpu), counts every kernel's FLOPs and compulsory bytes, and writes to the output folder:
  analysis.json         per model: kernel rows, totals, params; the peaks used
  efficiency_gap.svg    measured vs ideal latency per kernel and per model
  waterline.svg         cumulative measured time vs cumulative roofline floor
  roofline.svg          achieved FLOP/s vs operational intensity, with the two ceilings

options:
  --batch N             batch size (default: the model's own when fixed, else 1)
  --input-size S        input height = width (default: the model's own; needed when it is dynamic)
  --backend B           webgpu | cpu (default webgpu)
  --peak-tflops X       peak FLOP/s in TFLOP/s    } give both, or neither to measure them with
  --bandwidth-gbps Y    peak bandwidth in GB/s    } microbenchmarks on the same device
  --name NAME           display name of the next model (repeat per model; default: its folder name)
  --repeats R           profiled runs; each kernel's time is the median (default 3)
  --warmup W            unprofiled runs first (default 1)
  --ramp-ms MS          unprofiled runs back to back for MS ms before each profiled run, so the GPU is
                        timed at its working clocks (default 300 on webgpu, 0 on cpu)
  --out DIR             output folder (default ./analysis)
  --overwrite           replace the analysis.json and SVGs of an earlier run in DIR (otherwise refused)
  -h, --help            this text

Options take their value as --batch 2 or --batch=2, each once (--name once per model). A model folder
stands for its model.json.`;

class UsageError extends Error {}

export interface AnalyzeArgs {
  models: Array<{ path: string; name: string }>;
  /** null: each model's own batch when its input fixes one, else 1. */
  batch: number | null;
  inputSize: number | null;
  backend: 'webgpu' | 'cpu';
  peakTflops: number | null;
  bandwidthGBps: number | null;
  repeats: number;
  warmup: number;
  /** null: the profiler's default for the backend. */
  rampMs: number | null;
  out: string;
  overwrite: boolean;
}


function positive(flag: string, value: string, integer: boolean): number {
  const v = Number(value);
  if (!(Number.isFinite(v) && v > 0) || (integer && !Number.isInteger(v))) {
    throw new UsageError(`${flag} must be a positive ${integer ? 'integer' : 'number'}, got '${value}'`);
  }
  return v;
}

/** A positive peak whose value in base units (FLOP/s, B/s) is still a finite number. */
function peak(flag: string, value: string, unit: number): number {
  const v = positive(flag, value, false);
  if (!Number.isFinite(v * unit)) throw new UsageError(`${flag} ${value} is too large (not a finite number once scaled by ${unit})`);
  return v;
}

/** Parses the command line; throws UsageError naming the problem. */
export function parseAnalyzeArgs(args: readonly string[]): AnalyzeArgs {
  const a: AnalyzeArgs = {
    models: [], batch: null, inputSize: null, backend: 'webgpu', peakTflops: null, bandwidthGBps: null,
    repeats: 3, warmup: 1, rampMs: null, out: 'analysis', overwrite: false,
  };
  let pendingName: string | null = null;
  const given = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const { flag, inline } = splitOption(arg);
    // The option's value. A following option is not one: `--out --overwrite` wrote into a folder named
    // '--overwrite', `--out --batch 2` took '2' for a model. Given twice (but --name): which one was meant?
    const next = () => {
      const v = inline ?? args[i + 1];
      if (v == null || (inline == null && v.startsWith('--'))) throw new UsageError(`${flag} needs a value`);
      if (inline == null) i++;
      if (flag !== '--name' && given.has(flag)) throw new UsageError(`${flag} given twice`);
      given.add(flag);
      return v;
    };
    switch (flag) {
      case '--batch': a.batch = positive(flag, next(), true); break;
      case '--input-size': a.inputSize = positive(flag, next(), true); break;
      case '--peak-tflops': a.peakTflops = peak(flag, next(), 1e12); break;
      case '--bandwidth-gbps': a.bandwidthGBps = peak(flag, next(), 1e9); break;
      case '--repeats': a.repeats = positive(flag, next(), true); break;
      case '--overwrite': {
        const problem = switchValueProblem(arg);
        if (problem != null) throw new UsageError(problem);
        a.overwrite = true;
        break;
      }
      case '--warmup': {
        const v = next();
        if (!/^\d+$/.test(v)) throw new UsageError(`--warmup must be an integer >= 0, got '${v}'`);
        a.warmup = Number(v);
        break;
      }
      case '--ramp-ms': {
        const v = next();
        if (!/^\d+(\.\d+)?$/.test(v)) throw new UsageError(`--ramp-ms must be a number >= 0, got '${v}'`);
        a.rampMs = Number(v);
        break;
      }
      case '--backend': {
        const v = next();
        if (v !== 'webgpu' && v !== 'cpu') throw new UsageError(`--backend must be webgpu or cpu, got '${v}'`);
        a.backend = v;
        break;
      }
      case '--name': {
        const v = next();
        if (v === '') throw new UsageError('--name needs a value');
        pendingName = v;
        break;
      }
      case '--out': {
        const v = next();
        if (v === '') throw new UsageError('--out needs a folder');
        a.out = v;
        break;
      }
      default:
        if (arg.startsWith('-')) throw new UsageError(`unknown option '${arg}'`);
        // Default name: the model's folder (the folder itself when one is given).
        a.models.push({ path: arg, name: pendingName ?? (basename(isDirectory(arg) ? resolve(arg) : dirname(resolve(arg))) || arg) });
        pendingName = null;
    }
  }
  if (pendingName != null) throw new UsageError(`--name '${pendingName}' is not followed by a model.json`);
  if (a.models.length === 0) throw new UsageError('no model.json given');
  if ((a.peakTflops == null) !== (a.bandwidthGBps == null)) {
    throw new UsageError('give both --peak-tflops and --bandwidth-gbps, or neither to measure them');
  }
  const seen = new Map<string, number>();
  for (const m of a.models) { // make display names unique: resnet, resnet (2)
    const n = (seen.get(m.name) ?? 0) + 1;
    seen.set(m.name, n);
    if (n > 1) m.name = `${m.name} (${n})`;
  }
  return a;
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/**
 * The model.json a command-line model names, checked (a GraphModel, its shards present and complete) so a
 * bad input fails before the backend starts and other models are profiled.
 */
export function checkModelInput(input: string): string {
  const path = resolveModelPath(input);
  const bytes = readModelFile(path);
  if (!looksLikeJson(path, bytes)) {
    throw new Error(`${input} is not a TF.js model.json${path.endsWith('.onnx') ? ' (it is an ONNX model)' : ''}: analyze ` +
      `profiles TF.js GraphModels; convert it first: tfjs-block-fusion convert ${input} <outdir>`);
  }
  checkGraphModelFiles(path, bytes);
  return path;
}

/**
 * Refuses an --out that is a file, lies under one or cannot be written, or that holds an earlier run's output without
 * --overwrite (like convert, which refuses a non-empty <outdir>; other files in the folder are never touched).
 */
export function checkAnalysisOut(out: string, overwrite: boolean): void {
  if (existsSync(out) && !statSync(out).isDirectory()) throw new Error(`--out ${out} exists and is not a directory`);
  // A path under a file or in a read-only folder failed at the mkdir after every model was profiled.
  const problem = folderWriteProblem(out);
  if (problem != null) throw new Error(`--out ${out} cannot be written: ${problem}`);
  if (!existsSync(out)) return;
  const earlier = [ANALYSIS_JSON, ...Object.values(ANALYSIS_FIGURE_FILES)].filter((f) => existsSync(join(out, f)));
  if (earlier.length > 0 && !overwrite) {
    throw new Error(`--out ${out} already holds ${earlier.join(', ')} from an earlier run (pass --overwrite to replace them)`);
  }
}

/** The largest input analyze makes: 2^31 - 1 elements (8 GiB of float32), beyond tfjs's int32 sizes. */
const MAX_INPUT_ELEMENTS = 2 ** 31 - 1;

/**
 * The model's input shape with the batch and (for a 4-D image input) the spatial size filled in. NHWC
 * unless dim 1 is a known channel count (<= 4) and dim 3 is not. Without a batch, the model's own fixed one (a
 * default of 1 refused every model exported at a fixed batch of 2 or more), else 1.
 */
export function resolveInputShape(declared: readonly number[] | undefined, batch: number | null, inputSize: number | null,
  inputName: string): number[] {
  if (declared == null) throw new UsageError(`the model's input '${inputName}' has no declared shape`);
  const shape = declared.map((d) => (d == null || d < 0 ? -1 : d));
  shape[0] = batch ?? (shape[0] > 0 ? shape[0] : 1);
  if (inputSize != null) {
    if (shape.length !== 4) throw new UsageError(`--input-size needs a 4-D image input; '${inputName}' is ${shape.length}-D`);
    const channelsFirst = shape[1] > 0 && shape[1] <= 4 && !(shape[3] > 0 && shape[3] <= 4);
    const [h, w] = channelsFirst ? [2, 3] : [1, 2];
    shape[h] = inputSize;
    shape[w] = inputSize;
  }
  if (shape.some((d) => d < 0)) {
    throw new UsageError(`the model's input '${inputName}' has unknown dims [${shape.map((d) => (d < 0 ? '?' : d)).join(', ')}]: ` +
      'pass --input-size');
  }
  const elements = shape.reduce((x, y) => x * y, 1);
  if (elements > MAX_INPUT_ELEMENTS) {
    throw new UsageError(`the input [${shape.join(', ')}] has ${elements} elements, more than one tensor can hold ` +
      `(${MAX_INPUT_ELEMENTS}): use a smaller --batch or --input-size`);
  }
  return shape;
}

async function activateBackend(name: 'webgpu' | 'cpu', log: (m: string) => void): Promise<void> {
  const noDriver = name === 'webgpu' ? webgpuUnavailableReason() : null;
  if (name === 'webgpu' && noDriver == null) {
    await setupNodeWebGPU();
  } else if (name === 'cpu') {
    await import('@tensorflow/tfjs-backend-cpu');
  }
  // Registers the fused block kernels (and their reference fallbacks) on every backend.
  await import('../index.js');
  let ok = false;
  // tfjs warns "Initialization of backend X failed" plus the error's stack when a backend fails to start
  // (for webgpu without an adapter, a TypeError inside tfjs): held back so a failure prints one message.
  const held: unknown[][] = [];
  const warn = console.warn;
  console.warn = (...m: unknown[]) => { held.push(m); };
  let cause = noDriver;
  try {
    if (noDriver == null) ok = await tf.setBackend(name);
  } catch (e) {
    cause = (e as Error).message;
  } finally {
    console.warn = warn;
  }
  if (ok) {
    for (const m of held) warn(...m);
  } else {
    throw new Error(`backend ${name} failed to initialise${cause ? `: ${cause}` : ''}` + (name === 'webgpu'
      ? ' (no WebGPU adapter: check the Vulkan driver; on a machine without a GPU, ' +
        'VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json selects Chromium\'s software Vulkan, ' +
        'or use --backend cpu)' : ''));
  }
  await tf.ready();
  await quietCpuBackendBanner();
  log(`backend ${name} ready`);
}

/**
 * Loads a checked model.json. What tfjs-converter still refuses (a topology without `versions`, a missing
 * weightsManifest) fails inside it with a bare TypeError: named here with the file it came from.
 */
async function loadModel(path: string): Promise<Awaited<ReturnType<typeof loadGraphModelFromFile>>> {
  try {
    return await loadGraphModelFromFile(path);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    throw new Error(`${path}: tfjs-converter cannot load this model.json (${e.message}): is it complete, as ` +
      'tensorflowjs_converter or tfjs-block-fusion convert wrote it?');
  }
}

async function resolvePeaks(a: AnalyzeArgs, log: (m: string) => void): Promise<DevicePeaks> {
  if (a.peakTflops != null && a.bandwidthGBps != null) return userPeaks(a.peakTflops, a.bandwidthGBps);
  if (a.backend === 'cpu') {
    log('measuring peaks of the JavaScript engine (cpu backend)');
    return measureJsPeaks();
  }
  log('measuring peak FMA throughput and copy bandwidth on this GPU (WGSL microbenchmarks)');
  return measureWebGPUPeaks((tf.backend() as WebGPUBackend).device, measureDevicePeaks);
}


export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const log = (m: string) => console.error(`[analyze] ${m}`);
  let a: AnalyzeArgs;
  try {
    a = parseAnalyzeArgs(args);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`tfjs-block-fusion analyze: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  try {
    // Inputs and --out first: the backend start, peak measurement and profiling take minutes on a GPU.
    const paths = a.models.map((m) => checkModelInput(m.path));
    checkAnalysisOut(a.out, a.overwrite);
    await activateBackend(a.backend, log);
    const entries: ModelEntry[] = [];
    for (const [k, m] of a.models.entries()) {
      log(`loading ${m.path}`);
      const model = await loadModel(paths[k]);
      if (model.inputs.length !== 1) throw new Error(`${m.path}: ${model.inputs.length} inputs; analyze supports single-input models`);
      const input = model.inputs[0];
      const shape = resolveInputShape(input.shape, a.batch, a.inputSize, input.name);
      try {
        checkInputShape(model, shape);
      } catch (e) {
        throw new UsageError(`${m.path}: ${(e as Error).message}`);
      }
      entries.push({ name: m.name, model, inputShape: shape });
    }
    const peaks = await resolvePeaks(a, log);
    log(`peaks: ${(peaks.flopsPerSecond / 1e12).toPrecision(3)} TFLOP/s, ${(peaks.bytesPerSecond / 1e9).toPrecision(3)} GB/s ` +
      `(${peaks.source})`);
    const analysis = await analyzeModels(entries, {
      peaks, repeats: a.repeats, warmup: a.warmup, rampMs: a.rampMs ?? undefined, onProgress: log,
    });
    await mkdir(a.out, { recursive: true });
    for (const file of analysisOutputFiles(analysis)) await writeFile(join(a.out, file.name), file.text);
    for (const m of analysis.models) {
      for (const w of m.warnings) log(`warning: ${m.name}: ${w}`);
      const t = m.totals;
      console.log(`${m.name}: ${t.kernels} kernels, ${(t.flops / 1e9).toPrecision(4)} GFLOP, ${t.timeMs.toPrecision(4)} ms ` +
        `(${m.timing}), ${t.achievedTflops == null || t.efficiency == null ? 'no timing, E n/a' :
          `${t.achievedTflops.toPrecision(3)} TFLOP/s, E = ${(t.efficiency * 100).toPrecision(3)}%`}, ` +
        `floor ${t.floorMs.toPrecision(3)} ms`);
    }
    console.log(`wrote ${join(a.out, ANALYSIS_JSON)} and ${Object.values(ANALYSIS_FIGURE_FILES).join(', ')}`);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`tfjs-block-fusion analyze: ${e.message}`);
      return 2;
    }
    console.error(`tfjs-block-fusion analyze: ${(e as Error).message}`);
    return 1;
  }
}
