/**
 * Profiler: runs a function of tensors (or a GraphModel) on the active backend and returns each top-level
 * kernel's time with its FLOPs, compulsory bytes and intensity. Totals are sums over the kernel rows, so
 * they always equal the sum of kernel times. Browser-safe.
 */
import * as tf from '@tensorflow/tfjs-core';
import { attributeWeights, type CostOptions, type KernelAttrs, type KernelCategory, recordCost, uncountedWarning } from './cost_model.js';
import { type KernelRecord, type KernelTrace, type TimingSource, traceKernels } from './kernel_trace.js';
import { median } from './stats.js';

export interface KernelRow {
  /** Position in dispatch order. */
  index: number;
  name: string;
  inputShapes: Array<number[] | null>;
  outputShapes: number[][];
  /** Measured time (median over repeats), ms. */
  timeMs: number;
  flops: number;
  bytes: number;
  intensity: number;
  category: KernelCategory;
  /** The op scope the kernel ran in when tf.profile reported that instead (e.g. fusedConv2d__op). */
  scope?: string;
  /** Model weights this kernel reads (when profiling with `weights`). */
  weights?: string[];
  /** Parameters charged to this kernel: each weight once, at its first reader (when profiling with `weights`). */
  params?: number;
  /** Backend detail (WebGPU program names and times). */
  extraInfo?: string;
}

export interface ProfileTotals {
  kernels: number;
  /** Sum of kernel times, ms. */
  timeMs: number;
  flops: number;
  bytes: number;
  intensity: number;
}

export interface ProfileResult {
  backend: string;
  timing: TimingSource;
  /** Profiled runs whose per-kernel median is reported. */
  repeats: number;
  kernels: KernelRow[];
  totals: ProfileTotals;
  nestedKernels: number;
  warnings: string[];
}

export interface ProfileOptions extends CostOptions {
  /** Unprofiled runs first (shader compilation, weight upload); default 1. */
  warmup?: number;
  /** Profiled runs; each kernel's time is the median over them. Default 1. */
  repeats?: number;
  /**
   * Unprofiled runs back to back for this long (ms) before each profiled run, so a GPU works at its steady clocks
   * when it is timed. Default DEFAULT_GPU_RAMP_MS on the webgpu and webgl backends, 0 elsewhere.
   */
  rampMs?: number;
  /** Attributes for a kernel the shapes do not describe fully (pooling window, fused-op activation). */
  attrsFor?: (record: KernelRecord, index: number) => KernelAttrs | undefined;
  /** A model's weights (GraphModel.weights): each row then lists the weights it reads and its params. */
  weights?: { [name: string]: tf.Tensor[] };
}

/**
 * The default clock ramp on GPU backends. Timed right after a few synchronised warm-up runs, a GPU can still be at
 * its idle clocks: on an H200 the fused ConvNeXt-T at N=32 profiled at 9.6 to 20.9 ms in four runs of one build
 * (stock, whose kernels are memory- and launch-bound, 35.0 ms in all four), and at 9.55 ms three times with the
 * ramp (BENCHMARKS.md "Analysis runs"); the model benchmarks ramp for the same reason.
 */
export const DEFAULT_GPU_RAMP_MS = 300;

/** Backends whose kernel times depend on the GPU's clocks (the ramp's default is on for them). */
const GPU_BACKENDS = new Set(['webgpu', 'webgl']);

export function sumTotals(rows: ReadonlyArray<Pick<KernelRow, 'timeMs' | 'flops' | 'bytes'>>): ProfileTotals {
  let timeMs = 0;
  let flops = 0;
  let bytes = 0;
  for (const r of rows) {
    timeMs += r.timeMs;
    flops += r.flops;
    bytes += r.bytes;
  }
  return { kernels: rows.length, timeMs, flops, bytes, intensity: bytes > 0 ? flops / bytes : 0 };
}

async function settle(result: tf.TensorContainer | Promise<tf.TensorContainer>): Promise<void> {
  const value = await result;
  const tensors: tf.Tensor[] = [];
  const collect = (v: unknown): void => {
    if (v instanceof tf.Tensor) tensors.push(v);
    else if (Array.isArray(v)) v.forEach(collect);
    else if (v != null && typeof v === 'object') Object.values(v).forEach(collect);
  };
  collect(value);
  // Reading the results waits for the device, so a warm-up run really finishes before the next one.
  await Promise.all(tensors.map((t) => t.data()));
  tf.dispose(tensors);
}

/**
 * Runs `f` back to back for `ms` (two calls queued per wait, so the device does not idle between them): a GPU's clocks
 * ramp to their working speed (the profiler before each profiled run; bench:models before each timing round).
 */
export async function rampClocks(f: () => tf.TensorContainer | Promise<tf.TensorContainer>, ms: number): Promise<void> {
  const t0 = tf.util.now();
  while (tf.util.now() - t0 < ms) {
    const first = f();
    const second = f();
    await settle(first);
    await settle(second);
  }
}

/** Profiles `f` (which may return tensors; they are disposed) on the active backend. */
export async function profileFunction(f: () => tf.TensorContainer | Promise<tf.TensorContainer>,
  options: ProfileOptions = {}): Promise<ProfileResult> {
  if (typeof f !== 'function') throw new Error(`profileFunction: f must be a function of tensors, got ${typeof f}`);
  const warmup = options.warmup ?? 1;
  const repeats = options.repeats ?? 1;
  if (!(Number.isInteger(warmup) && warmup >= 0)) throw new Error(`warmup must be an integer >= 0, got ${warmup}`);
  if (!(Number.isInteger(repeats) && repeats >= 1)) throw new Error(`repeats must be an integer >= 1, got ${repeats}`);
  const rampMs = options.rampMs ?? (GPU_BACKENDS.has(tf.getBackend()) ? DEFAULT_GPU_RAMP_MS : 0);
  if (!(Number.isFinite(rampMs) && rampMs >= 0)) throw new Error(`rampMs must be a finite number >= 0, got ${rampMs}`);
  for (let i = 0; i < warmup; i++) {
    await settle(f());
    options.onProgress?.(`warm-up ${i + 1}/${warmup}`);
  }
  const traces: KernelTrace[] = [];
  for (let i = 0; i < repeats; i++) {
    if (rampMs > 0) {
      options.onProgress?.(`clock ramp ${rampMs} ms before profiled run ${i + 1}/${repeats}`);
      await rampClocks(f, rampMs);
    }
    traces.push(await traceKernels(f));
    options.onProgress?.(`profiled run ${i + 1}/${repeats}: ${traces[i].kernels.length} kernels`);
  }
  const first = traces[0];
  for (const t of traces) {
    const same = t.kernels.length === first.kernels.length && t.kernels.every((k, i) => k.name === first.kernels[i].name);
    if (!same) throw new Error('profiled runs dispatched different kernel sequences; profile a deterministic function');
  }
  const uses = options.weights != null ? attributeWeights(first.kernels, options.weights) : null;
  const kernels: KernelRow[] = first.kernels.map((k, i) => {
    const cost = recordCost(k, options.attrsFor?.(k, i), options);
    const row: KernelRow = {
      index: i, name: cost.kernel, inputShapes: k.inputShapes, outputShapes: k.outputShapes,
      timeMs: median(traces.map((t) => t.kernels[i].timeMs ?? 0)),
      flops: cost.flops, bytes: cost.bytes, intensity: cost.intensity, category: cost.category,
    };
    if (cost.kernel !== k.name) row.scope = k.name;
    if (uses != null) {
      row.weights = uses[i].weights;
      row.params = uses[i].params;
    }
    if (k.extraInfo !== '') row.extraInfo = k.extraInfo;
    return row;
  });
  const warnings = [...new Set(traces.flatMap((t) => t.warnings))];
  const uncounted = uncountedWarning(first.kernels);
  if (uncounted != null) warnings.push(uncounted);
  return {
    backend: first.backend, timing: first.timing, repeats, kernels, totals: sumTotals(kernels),
    nestedKernels: first.nestedKernels, warnings,
  };
}

/** The part of GraphModel the profiler uses (tfjs-converter's GraphModel satisfies it). */
export interface ExecutableModel {
  execute(inputs: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap, outputs?: string | string[]): tf.Tensor | tf.Tensor[];
  executeAsync(inputs: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap, outputs?: string | string[]):
    Promise<tf.Tensor | tf.Tensor[]>;
}

/** Runs a model: synchronous execute, or executeAsync when the graph has control flow / dynamic ops. */
export function runModel(model: ExecutableModel, input: tf.Tensor): tf.Tensor | tf.Tensor[] | Promise<tf.Tensor | tf.Tensor[]> {
  try {
    return model.execute(input);
  } catch (e) {
    if (/executeAsync/.test((e as Error).message)) return model.executeAsync(input);
    throw e;
  }
}

/** Profiles one inference of `model` on `input` (not disposed: the caller owns it). */
export async function profileGraphModel(model: ExecutableModel, input: tf.Tensor,
  options: ProfileOptions = {}): Promise<ProfileResult> {
  return profileFunction(() => runModel(model, input), options);
}
