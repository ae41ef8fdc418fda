/**
 * The demo's comparison: build or convert the chosen models once, then on each backend load them (weight
 * upload), run once (shader compilation), warm up, time the iterations, count GPU passes, check outputs
 * against the original, and profile for the figures. DOM-free: the page and scripts drive it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { activateBackend, type BackendName, countGpuPasses } from './backends.js';
import { isOriginalModel, type ModelFiles, type ModelKey, MODEL_LABELS, type OwnModelInput, prepareModelFiles }
  from './model_sources.js';
import { peaksFor, profileForFigures, type ProfileSummary } from './profile.js';
import type { DevicePeaks } from '../../src/analysis/index.js';
import { maxAbsDiff, median, percentile } from './stats.js';
import { loadFromFiles } from './load.js';
import { yieldToPage } from './next_task.js';
import { concreteInputShape, type GraphInput } from '../../src/converter/ir.js';

export interface ComparisonConfig {
  backends: BackendName[];
  models: ModelKey[];
  variant: string;
  inputSize: number;
  batch: number;
  iterations: number;
  warmup: number;
  seed: number;
  /** Convert and compare a user's model instead of the built-in ones. */
  ownModel?: OwnModelInput;
  /** Profile kernels for the efficiency-gap and waterline figures (one extra run per model). */
  profile: boolean;
  /**
   * Stops the comparison: checked at every progress point and before every inference (a running inference is
   * not interrupted), it then rejects with the signal's reason (an AbortError) after disposing what it made.
   * Rows measured so far are discarded, not returned: a stopped run lacks some models or backends, so its
   * speedups and diffs would lack their original, and a half-filled table reads like a finished one.
   */
  signal?: AbortSignal;
}

export interface ModelRow {
  model: ModelKey;
  label: string;
  backend: BackendName;
  /** The batch the model ran (its input's first dimension: a model with a fixed batch runs that one). */
  batch: number;
  inputShape: number[];
  /** Fused op nodes in the model (0: stock ops only; its speedup is then noise, not fusion). */
  fusedNodes: number;
  firstRunMs: number;
  medianMs: number;
  p90Ms: number;
  /** Median of the original model on the same backend over this model's median; null without an original. */
  speedup: number | null;
  gpuPasses: number;
  /** Max |output - original output| on the same input and backend; null for a different network. */
  maxDiff: number | null;
  gflops: number | null;
  params: number;
  timesMs: number[];
}

export interface ComparisonResults {
  config: Omit<ComparisonConfig, 'ownModel' | 'signal'> & { ownModel?: string };
  userAgent: string;
  startedAt: string;
  finishedAt: string;
  rows: ModelRow[];
  profiles: ProfileSummary[];
  /** Peak FLOP/s and bandwidth per backend used for the figures (null where none could be had). */
  peaks: { backend: BackendName; peaks: DevicePeaks | null }[];
  notes: string[];
}

export interface Progress { fraction: number; stage: string; detail?: string }

/** Models that compute the same function as the original (so their outputs must match it). */
const CONVERSIONS: Partial<Record<ModelKey, true>> = { 'convnext-converted': true, 'own-converted': true };

/**
 * The shape of the input every model of a comparison gets: the graph input's known dims as declared, an unknown
 * batch the form's batch, an unknown height / width (an export with dynamic H / W) the form's input size.
 */
export function comparisonInputShape(input: Pick<GraphInput, 'shape' | 'layout'>, batch: number, inputSize: number): number[] {
  return concreteInputShape(input, { batch, spatial: inputSize });
}

/**
 * Reads and disposes every output of one prediction (a model may have several: GraphModel.predict then gives an
 * array, or a map for structured outputs), joined in order, so the diff covers them all.
 */
async function readOutputs(y: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap): Promise<Float64Array> {
  const outputs = y instanceof tf.Tensor ? [y] : Array.isArray(y) ? y : Object.values(y);
  try {
    const data = await Promise.all(outputs.map((t) => t.data()));
    const joined = new Float64Array(data.reduce((n, d) => n + d.length, 0));
    let at = 0;
    for (const d of data) { joined.set(d as ArrayLike<number>, at); at += d.length; }
    return joined;
  } finally {
    tf.dispose(outputs);
  }
}

/** True when `error` is the rejection of a comparison stopped through `signal` (not a failure). */
export function isStopped(error: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true && error === signal.reason;
}

/** How the log names the batch that runs: a model with a fixed batch ignores the form's. */
export function describeBatch(modelShape: readonly number[], formBatch: number): string {
  const fixed = modelShape[0];
  return fixed == null || fixed < 0 ? `batch ${formBatch}` :
    `batch ${fixed}${fixed === formBatch ? '' : ` (fixed by the model; the form's ${formBatch} does not apply)`}`;
}

export async function runComparison(config: ComparisonConfig, onProgress: (p: Progress) => void):
  Promise<ComparisonResults> {
  const startedAt = new Date().toISOString();
  const notes: string[] = [];
  const stopIfAsked = () => config.signal?.throwIfAborted();
  const say = (fraction: number, stage: string, detail?: string) => {
    stopIfAsked();
    onProgress({ fraction, stage, detail });
  };

  say(0, 'Building models', config.ownModel ? 'converting your model' : `${config.variant}, ${config.inputSize}px`);
  // Building reports only (no stop check): the converter's progress callback is no place to throw from.
  const files = await prepareModelFiles(config, (detail: string) => onProgress({ fraction: 0.02, stage: 'Building models', detail }),
    notes);
  const rows: ModelRow[] = [];
  const profiles: ProfileSummary[] = [];
  const peaks: ComparisonResults['peaks'] = [];
  if (files[0] != null && files[0].input.shape.slice(1).some((d) => d < 0)) {
    notes.push(`${files[0].label}: the input's height / width are dynamic; ran at ${config.inputSize}px (the form's input size)`);
  }
  const inputShape = files[0] == null ? [] : comparisonInputShape(files[0].input, config.batch, config.inputSize);
  // The batch that really runs, logged before the first run (the page's first line can only give the form's).
  if (files[0] != null) say(0.02, 'Input', `${describeBatch(files[0].input.shape, config.batch)}, shape [${inputShape.join(', ')}]`);
  const steps = config.backends.length * files.length;
  let step = 0;

  for (const backend of config.backends) {
    stopIfAsked();
    await activateBackend(backend);
    if (config.profile) {
      say(step / steps, 'Measuring device peaks', backend);
      peaks.push({ backend, peaks: await peaksFor(backend) });
    }
    const input = tf.tidy(() => tf.randomUniform(inputShape, 0, 1, 'float32', config.seed));
    let originalOut: Float64Array | null = null;
    let originalMedian: number | null = null;
    // A model that fails mid-run must not leave the input behind (one tensor per failed run otherwise).
    try {
      for (const f of files) {
        const base = step / steps;
        const frac = (x: number) => base + x / steps;
        const name = `${f.label} on ${backend}`;
        say(frac(0.05), 'Uploading weights', name);
        const model = await loadFromFiles(f);
        try {
          const predictOnce = () => readOutputs(model.predict(input));
          // Before each inference, outside the timed span: let a Stop click in, then honour it.
          const beforeInference = () => yieldToPage(config.signal);
          say(frac(0.15), 'Compiling shaders (first run)', name);
          await beforeInference();
          let t0 = performance.now();
          const out = await predictOnce();
          const firstRunMs = performance.now() - t0;
          for (let i = 0; i < config.warmup; i++) {
            say(frac(0.2 + 0.1 * (i / Math.max(1, config.warmup))), 'Warming up', `${name}: ${i + 1}/${config.warmup}`);
            await beforeInference();
            await predictOnce();
          }
          const timesMs: number[] = [];
          for (let i = 0; i < config.iterations; i++) {
            if (i % Math.max(1, Math.floor(config.iterations / 10)) === 0) {
              say(frac(0.3 + 0.5 * (i / config.iterations)), 'Timing', `${name}: ${i}/${config.iterations}`);
            }
            await beforeInference();
            t0 = performance.now();
            await predictOnce();
            timesMs.push(performance.now() - t0);
          }
          await beforeInference();
          // The stop check stays outside: thrown inside tf.profile (cpu), it would leave the engine profiling for good.
          const gpuPasses = await countGpuPasses(async () => { await predictOnce(); });
          let gflops: number | null = null;
          if (config.profile) {
            say(frac(0.85), 'Profiling kernels', name);
            await beforeInference();
            const p = await profileForFigures(`${f.label} (${backend})`, () => model.predict(input));
            profiles.push(p);
            gflops = p.totalFlops / 1e9;
          }
          const isOriginal = isOriginalModel(f.key);
          if (isOriginal) {
            originalOut = out;
            originalMedian = median(timesMs);
          }
          rows.push({
            model: f.key, label: f.label, backend, batch: input.shape[0], inputShape: f.input.shape, fusedNodes: f.fusedNodes,
            firstRunMs,
            medianMs: median(timesMs), p90Ms: percentile(timesMs, 90),
            speedup: originalMedian != null && !isOriginal ? originalMedian / median(timesMs) : (isOriginal ? 1 : null),
            gpuPasses, maxDiff: isOriginal ? 0 : CONVERSIONS[f.key] && originalOut != null ? maxAbsDiff(out, originalOut) : null,
            gflops, params: f.params, timesMs,
          });
        } finally {
          model.dispose();
        }
        step++;
      }
    } finally {
      input.dispose();
    }
  }
  // Not say(): a stop that comes after the last measurement keeps the finished results.
  onProgress({ fraction: 1, stage: 'Done' });
  const { ownModel, signal: _signal, ...rest } = config;
  return { config: { ...rest, ...(ownModel ? { ownModel: ownModel.name } : {}) }, userAgent: navigator.userAgent,
    startedAt, finishedAt: new Date().toISOString(), rows, profiles, peaks, notes };
}

export { MODEL_LABELS };
export type { ModelFiles, ModelKey };
