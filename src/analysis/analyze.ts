/**
 * Library API of the analysis: profile one or several models on the active backend, attach the roofline
 * metrics of every kernel, and draw the three figures. `analyzeModels` returns what the CLI writes to
 * analysis.json (plus the SVG strings). Browser-safe.
 */
import * as tf from '@tensorflow/tfjs-core';
import { countParams, type CountableModel } from './cost_model.js';
import { type KernelRow, profileFunction, type ProfileOptions, type ProfileTotals, runModel } from './profiler.js';
import type { TimingSource } from './kernel_trace.js';
import {
  achievedFlopsPerSecond, checkPeaks, type DevicePeaks, efficiency, floorMs, idealLatencyMs,
} from './roofline.js';
import { efficiencyGapSvg } from './svg/efficiency_gap.js';
import { rooflineSvg } from './svg/roofline.js';
import { waterlineSvg } from './svg/waterline.js';

export interface AnalyzedKernel extends KernelRow {
  /** Achieved TFLOP/s; null when the kernel has no measured time (timing source 'none'). */
  achievedTflops: number | null;
  /** Computational efficiency: achieved / peak FLOP/s; null without a measured time. */
  efficiency: number | null;
  /** FLOPs / peak, ms. */
  idealMs: number;
  /** max(FLOPs / peak, bytes / bandwidth), ms. */
  floorMs: number;
  /** Which roofline ceiling bounds the kernel. */
  bound: 'compute' | 'memory' | 'none';
  /** Running sums up to and including this kernel (the waterline), ms. */
  cumulativeMs: number;
  cumulativeFloorMs: number;
}

export interface ModelTotals extends ProfileTotals {
  idealMs: number;
  floorMs: number;
  /** null when the model's kernels have no measured times. */
  achievedTflops: number | null;
  efficiency: number | null;
}

export interface ModelAnalysis {
  name: string;
  backend: string;
  timing: TimingSource;
  inputShape: number[] | null;
  /** Floating-point weight elements (0 when analysing a plain function). */
  params: number;
  repeats: number;
  nestedKernels: number;
  warnings: string[];
  kernels: AnalyzedKernel[];
  totals: ModelTotals;
}

export interface Figures {
  efficiencyGap: string;
  waterline: string;
  roofline: string;
}

export interface Analysis {
  tool: 'tfjs-block-fusion analyze';
  formatVersion: 1;
  createdAt: string;
  peaks: DevicePeaks;
  models: ModelAnalysis[];
  figures: Figures;
}

export interface AnalyzeOptions extends ProfileOptions {
  peaks: DevicePeaks;
}

export interface ModelEntry {
  name: string;
  model: CountableModel;
  /** Full input shape, batch included. */
  inputShape: number[];
}

/** Achieved TFLOP/s and efficiency, or nulls when nothing was timed (a 0 would read as a measured 0%). */
function rates(flops: number, timeMs: number, peaks: DevicePeaks): { achievedTflops: number | null; efficiency: number | null } {
  return timeMs > 0 ? { achievedTflops: achievedFlopsPerSecond(flops, timeMs) / 1e12, efficiency: efficiency(flops, timeMs, peaks) } :
    { achievedTflops: null, efficiency: null };
}

/**
 * Kernels measured faster than their roofline floor (beyond 2% timing noise): the peaks are below what the device
 * reaches, and efficiencies above 1 follow. Null when there are none.
 */
export function belowFloorWarning(kernels: ReadonlyArray<AnalyzedKernel>): string | null {
  const below = kernels.filter((k) => k.timeMs > 0 && k.timeMs < 0.98 * k.floorMs);
  if (below.length === 0) return null;
  const names = [...new Set(below.map((k) => k.name))].slice(0, 5).join(', ');
  return `${below.length} kernel(s) measured faster than their roofline floor (${names}): the peaks used are lower than ` +
    'this device reaches (measure them with more repeats, or give --peak-tflops / --bandwidth-gbps); their ' +
    'efficiencies exceed 100% and the floors are not lower bounds for them';
}

/** Adds the roofline metrics and running sums to profiled kernel rows. */
export function withRoofline(rows: ReadonlyArray<KernelRow>, totals: ProfileTotals, peaks: DevicePeaks):
  { kernels: AnalyzedKernel[]; totals: ModelTotals } {
  let cumulative = 0;
  let cumulativeFloor = 0;
  const kernels = rows.map((k): AnalyzedKernel => {
    const floor = floorMs(k.flops, k.bytes, peaks);
    cumulative += k.timeMs;
    cumulativeFloor += floor;
    const compute = k.flops / peaks.flopsPerSecond;
    const memory = k.bytes / peaks.bytesPerSecond;
    return {
      ...k, ...rates(k.flops, k.timeMs, peaks),
      idealMs: idealLatencyMs(k.flops, peaks), floorMs: floor,
      bound: compute === 0 && memory === 0 ? 'none' : compute >= memory ? 'compute' : 'memory',
      cumulativeMs: cumulative, cumulativeFloorMs: cumulativeFloor,
    };
  });
  return {
    kernels,
    totals: {
      ...totals, idealMs: idealLatencyMs(totals.flops, peaks),
      floorMs: kernels.reduce((s, k) => s + k.floorMs, 0),
      ...rates(totals.flops, totals.timeMs, peaks),
    },
  };
}

/** Profiles any function of tensors as one "model" of the analysis. */
export async function analyzeFunction(name: string, f: () => tf.TensorContainer | Promise<tf.TensorContainer>,
  options: AnalyzeOptions): Promise<ModelAnalysis> {
  const peaks = checkPeaks(options.peaks);
  const p = await profileFunction(f, options);
  const { kernels, totals } = withRoofline(p.kernels, p.totals, peaks);
  const belowFloor = belowFloorWarning(kernels);
  return {
    name, backend: p.backend, timing: p.timing, inputShape: null, params: 0, repeats: p.repeats,
    nestedKernels: p.nestedKernels, warnings: belowFloor == null ? p.warnings : [...p.warnings, belowFloor], kernels, totals,
  };
}

/** Checks a model input shape against the model's declared input and returns it as a plain array. */
export function checkInputShape(model: CountableModel, inputShape: readonly number[]): number[] {
  if (!Array.isArray(inputShape)) throw new Error(`input shape must be an array of positive integers, got ${JSON.stringify(inputShape)}`);
  if (model.inputs.length !== 1) {
    throw new Error(`the model has ${model.inputs.length} inputs; analyze supports single-input models`);
  }
  const declared = model.inputs[0].shape;
  if (!inputShape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`input shape must be positive integers, got [${inputShape.join(', ')}]`);
  }
  if (declared != null && (declared.length !== inputShape.length ||
    declared.some((d, i) => d != null && d > 0 && d !== inputShape[i]))) {
    throw new Error(`input shape [${inputShape.join(', ')}] does not fit the model's input ` +
      `'${model.inputs[0].name}' [${declared.map((d) => (d == null || d < 0 ? '?' : d)).join(', ')}]`);
  }
  return [...inputShape];
}

/** Profiles one inference of a GraphModel on a random input of `inputShape` (seeded, so reproducible). */
export async function analyzeModel(entry: ModelEntry, options: AnalyzeOptions): Promise<ModelAnalysis> {
  const shape = checkInputShape(entry.model, entry.inputShape);
  const dtype = entry.model.inputs[0].dtype;
  const input = dtype === 'float32' ? tf.randomUniform(shape, 0, 1, 'float32', 7) : tf.zeros(shape, dtype);
  try {
    const result = await analyzeFunction(entry.name, () => runModel(entry.model, input),
      { ...options, weights: entry.model.weights });
    return { ...result, inputShape: shape, params: countParams(entry.model).params };
  } finally {
    input.dispose();
  }
}

export function drawFigures(models: ReadonlyArray<ModelAnalysis>, peaks: DevicePeaks): Figures {
  return {
    efficiencyGap: efficiencyGapSvg(models, peaks),
    waterline: waterlineSvg(models, peaks),
    roofline: rooflineSvg(models, peaks),
  };
}

/** Analyses several models one after the other on the active backend and draws them on shared figures. */
export async function analyzeModels(entries: ReadonlyArray<ModelEntry>, options: AnalyzeOptions): Promise<Analysis> {
  if (options == null) throw new Error('analyzeModels: options with the device peaks are required ({ peaks, ... })');
  const peaks = checkPeaks(options.peaks);
  if (!Array.isArray(entries)) throw new Error('analyzeModels: entries must be an array of { name, model, inputShape }');
  for (const [i, e] of entries.entries()) {
    if (e == null || typeof e.name !== 'string' || e.model == null) {
      throw new Error(`analyzeModels: entry ${i} must be { name, model, inputShape }`);
    }
    checkInputShape(e.model, e.inputShape);  // every entry checked before the first one is profiled
  }
  const names = new Set<string>();
  for (const e of entries) {
    if (names.has(e.name)) throw new Error(`two models are named '${e.name}'; names must be unique`);
    names.add(e.name);
  }
  const models: ModelAnalysis[] = [];
  for (const e of entries) {
    options.onProgress?.(`${e.name}: profiling on ${tf.getBackend()}, input [${e.inputShape.join(', ')}]`);
    models.push(await analyzeModel(e, { ...options, onProgress: (m) => options.onProgress?.(`${e.name}: ${m}`) }));
  }
  return {
    tool: 'tfjs-block-fusion analyze', formatVersion: 1, createdAt: new Date().toISOString(), peaks, models,
    figures: drawFigures(models, peaks),
  };
}
