/**
 * `tfjs-block-fusion analyze <model.json>... [options]`: profile GraphModels on one backend and write
 * DIR/analysis.json plus the efficiency gap, waterline and roofline SVGs. Node-only.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { type Analysis, analyzeModels, checkInputShape, type ModelEntry } from '../analysis/analyze.js';
import { measureDevicePeaks } from '../analysis/microbench.js';
import { measureJsPeaks, measureWebGPUPeaks, userPeaks } from '../analysis/peaks.js';
import type { DevicePeaks } from '../analysis/roofline.js';
import { loadGraphModelFromFile } from '../node/graph_model_file.js';
import { setupNodeWebGPU } from '../node/webgpu_setup.js';

export const USAGE = `usage: tfjs-block-fusion analyze <model.json>... [options]

Profiles each TF.js GraphModel for one inference (GPU timestamp queries on webgpu, wall time per kernel
on cpu), counts every kernel's FLOPs and compulsory bytes, and writes to the output folder:
  analysis.json         per model: kernel rows, totals, params; the peaks used
  efficiency_gap.svg    measured vs ideal latency per kernel and per model
  waterline.svg         cumulative measured time vs cumulative roofline floor
  roofline.svg          achieved FLOP/s vs operational intensity, with the two ceilings

options:
  --batch N             batch size (default 1)
  --input-size S        input height = width (default: the model's own; needed when it is dynamic)
  --backend B           webgpu | cpu (default webgpu)
  --peak-tflops X       peak FLOP/s in TFLOP/s    } give both, or neither to measure them with
  --bandwidth-gbps Y    peak bandwidth in GB/s    } microbenchmarks on the same device
  --name NAME           display name of the next model (repeat per model; default: its folder name)
  --repeats R           profiled runs; each kernel's time is the median (default 3)
  --warmup W            unprofiled runs first (default 1)
  --out DIR             output folder (default ./analysis)
  -h, --help            this text`;

class UsageError extends Error {}

export interface AnalyzeArgs {
  models: Array<{ path: string; name: string }>;
  batch: number;
  inputSize: number | null;
  backend: 'webgpu' | 'cpu';
  peakTflops: number | null;
  bandwidthGBps: number | null;
  repeats: number;
  warmup: number;
  out: string;
}

function positive(flag: string, value: string | undefined, integer: boolean): number {
  if (value == null || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
  const v = Number(value);
  if (!(Number.isFinite(v) && v > 0) || (integer && !Number.isInteger(v))) {
    throw new UsageError(`${flag} must be a positive ${integer ? 'integer' : 'number'}, got '${value}'`);
  }
  return v;
}

/** Parses the command line; throws UsageError naming the problem. */
export function parseAnalyzeArgs(args: readonly string[]): AnalyzeArgs {
  const a: AnalyzeArgs = {
    models: [], batch: 1, inputSize: null, backend: 'webgpu', peakTflops: null, bandwidthGBps: null,
    repeats: 3, warmup: 1, out: 'analysis',
  };
  let pendingName: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const next = () => args[++i];
    switch (arg) {
      case '--batch': a.batch = positive(arg, next(), true); break;
      case '--input-size': a.inputSize = positive(arg, next(), true); break;
      case '--peak-tflops': a.peakTflops = positive(arg, next(), false); break;
      case '--bandwidth-gbps': a.bandwidthGBps = positive(arg, next(), false); break;
      case '--repeats': a.repeats = positive(arg, next(), true); break;
      case '--warmup': {
        const v = next();
        if (v == null || !/^\d+$/.test(v)) throw new UsageError(`--warmup must be an integer >= 0, got '${v ?? ''}'`);
        a.warmup = Number(v);
        break;
      }
      case '--backend': {
        const v = next();
        if (v !== 'webgpu' && v !== 'cpu') throw new UsageError(`--backend must be webgpu or cpu, got '${v ?? ''}'`);
        a.backend = v;
        break;
      }
      case '--name': {
        const v = next();
        if (v == null || v === '') throw new UsageError('--name needs a value');
        pendingName = v;
        break;
      }
      case '--out': {
        const v = next();
        if (v == null || v === '') throw new UsageError('--out needs a folder');
        a.out = v;
        break;
      }
      default:
        if (arg.startsWith('-')) throw new UsageError(`unknown option '${arg}'`);
        a.models.push({ path: arg, name: pendingName ?? (basename(dirname(resolve(arg))) || arg) });
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

/**
 * The model's input shape with the batch and (for a 4-D image input) the spatial size filled in. NHWC
 * unless dim 1 is a known channel count (<= 4) and dim 3 is not.
 */
export function resolveInputShape(declared: readonly number[] | undefined, batch: number, inputSize: number | null,
  inputName: string): number[] {
  if (declared == null) throw new UsageError(`the model's input '${inputName}' has no declared shape`);
  const shape = declared.map((d) => (d == null || d < 0 ? -1 : d));
  shape[0] = batch;
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
  return shape;
}

async function activateBackend(name: 'webgpu' | 'cpu', log: (m: string) => void): Promise<void> {
  if (name === 'webgpu') {
    await setupNodeWebGPU();
  } else {
    await import('@tensorflow/tfjs-backend-cpu');
  }
  // Registers the fused block kernels (and their reference fallbacks) on every backend.
  await import('../index.js');
  let ok = false;
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    throw new Error(`backend ${name} failed to initialise: ${(e as Error).message}`);
  }
  if (!ok) {
    throw new Error(`backend ${name} failed to initialise` + (name === 'webgpu'
      ? ' (no WebGPU adapter: check the Vulkan driver; on a machine without a GPU, ' +
        'VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json selects Chromium\'s software Vulkan, ' +
        'or use --backend cpu)' : ''));
  }
  await tf.ready();
  log(`backend ${name} ready`);
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

/** analysis.json: the analysis with the figures replaced by their file names. */
function jsonReport(analysis: Analysis, files: Record<keyof Analysis['figures'], string>): string {
  return JSON.stringify({ ...analysis, figures: files }, null, 1);
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
    await activateBackend(a.backend, log);
    const entries: ModelEntry[] = [];
    for (const m of a.models) {
      log(`loading ${m.path}`);
      const model = await loadGraphModelFromFile(m.path);
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
    const analysis = await analyzeModels(entries, { peaks, repeats: a.repeats, warmup: a.warmup, onProgress: log });
    await mkdir(a.out, { recursive: true });
    const files = { efficiencyGap: 'efficiency_gap.svg', waterline: 'waterline.svg', roofline: 'roofline.svg' };
    for (const key of Object.keys(files) as Array<keyof typeof files>) {
      await writeFile(join(a.out, files[key]), analysis.figures[key]);
    }
    await writeFile(join(a.out, 'analysis.json'), jsonReport(analysis, files));
    for (const m of analysis.models) {
      for (const w of m.warnings) log(`warning: ${m.name}: ${w}`);
      const t = m.totals;
      console.log(`${m.name}: ${t.kernels} kernels, ${(t.flops / 1e9).toPrecision(4)} GFLOP, ${t.timeMs.toPrecision(4)} ms ` +
        `(${m.timing}), ${(t.achievedTflops).toPrecision(3)} TFLOP/s, E = ${(t.efficiency * 100).toPrecision(3)}%, ` +
        `floor ${t.floorMs.toPrecision(3)} ms`);
    }
    console.log(`wrote ${join(a.out, 'analysis.json')} and ${Object.values(files).join(', ')}`);
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
