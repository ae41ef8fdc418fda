import * as tf from '@tensorflow/tfjs-core';
import { ACTIVATIONS, type Activation, isActivation } from '../src/spec/activations.js';
import { isLayerNormEpsilon, LAYER_NORM_EPSILON_MAX, LAYER_NORM_EPSILON_MIN } from '../src/spec/layer_norm.js';

/** Anything an op accepts in place of a tensor, as in TF.js's own ops. */
export type TensorInput = tf.Tensor | tf.TensorLike;

/**
 * One expected dimension: a fixed size, or null for "any", with the symbol shown in messages; `from` names the
 * tensor the size was read from (C from x), so a mismatch says which of the two set it.
 */
export type Dim = { size: number | null; name: string; from?: string };

export function dim(name: string, size: number | null = null, from?: string): Dim {
  return { size, name, from };
}

/** Converts a TensorLike to a tensor (inside the op's scope, so it is freed on error). */
export function toTensor(value: TensorInput | undefined, arg: string, opName: string): tf.Tensor {
  if (value == null) throw new Error(`${opName}: ${arg} is required but was ${value}`);
  if (value instanceof tf.Tensor) {
    if (value.isDisposed) throw new Error(`${opName}: ${arg} is a disposed tensor`);
    return value;
  }
  try {
    return tf.tensor(value as tf.TensorLike);
  } catch (e) {
    throw new Error(`${opName}: ${arg} is not a tensor or tensor-like value: ${(e as Error).message}`);
  }
}

function formatShape(dims: readonly Dim[]): string {
  const names = dims.map((d) => d.name).join(', ');
  const sizes = dims.map((d) => (d.size == null ? '?' : String(d.size))).join(', ');
  return names === sizes ? `[${sizes}]` : `[${names}] = [${sizes}]`;
}

/** Throws an Error naming the argument, its expected float32 shape and what it got. */
export function expectShape(opName: string, arg: string, t: tf.Tensor, dims: readonly Dim[]): void {
  if (t.dtype !== 'float32') {
    throw new Error(`${opName}: ${arg} must be float32, got ${t.dtype}`);
  }
  const ok = t.rank === dims.length && dims.every((d, i) => d.size == null || d.size === t.shape[i]);
  if (!ok) {
    const sources = [...new Set(dims.filter((d) => d.from != null).map((d) => `${d.name} = ${d.size} from ${d.from}'s shape`))];
    throw new Error(`${opName}: ${arg} must have shape ${formatShape(dims)}, got [${t.shape.join(', ')}]` +
      (sources.length > 0 ? ` (${sources.join(', ')})` : ''));
  }
}

/** An op's options argument: undefined or null mean the defaults ({}); anything else must be an object. */
export function optionsObject<T extends object>(opName: string, options: T | null | undefined): Partial<T> {
  if (options == null) return {};
  if (typeof options !== 'object') throw new Error(`${opName}: options must be an object, got ${JSON.stringify(options)}`);
  return options;
}

/** A bad argument as messages show it: strings quoted (`"1e-6"` is not 1e-6), other values as JSON or their type. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return `${value}n`;
  if (value !== null && typeof value === 'object') {
    try { return JSON.stringify(value) ?? String(value); } catch { return 'an object'; }
  }
  return String(value);
}

/** A LayerNorm epsilon (`arg` names it in messages): `fallback` when undefined; else a normal float32 > 0 (isLayerNormEpsilon). */
export function expectEpsilon(opName: string, arg: string, value: unknown, fallback: number): number {
  const epsilon = value ?? fallback;
  if (!isLayerNormEpsilon(epsilon)) {
    throw new Error(`${opName}: ${arg} must be a number in float32's normal range [${LAYER_NORM_EPSILON_MIN}, ` +
      `${LAYER_NORM_EPSILON_MAX}], got ${describeValue(epsilon)}`);
  }
  return epsilon;
}

export function expectActivation(opName: string, value: unknown): Activation {
  if (!isActivation(value)) {
    throw new Error(`${opName}: options.activation must be one of ${ACTIVATIONS.map((a) => `'${a}'`).join(', ')}, ` +
      `got ${JSON.stringify(value)}`);
  }
  return value;
}

export function expectOddKernel(opName: string, arg: string, filter: tf.Tensor): number {
  const [kh, kw] = filter.shape;
  if (kh !== kw || kh % 2 !== 1) {
    throw new Error(`${opName}: ${arg} must be a square filter with odd size k (stride 1, 'same' padding), ` +
      `got ${kh}x${kw}`);
  }
  return kh;
}

/** The checks both block ops start with: a weights object, and x an NHWC float32 tensor. Returns x and C. */
export function blockInput(opName: string, x: TensorInput, weights: unknown): { $x: tf.Tensor; c: number } {
  if (weights == null || typeof weights !== 'object') {
    throw new Error(`${opName}: weights must be an object of tensors, got ${describeValue(weights)}`);
  }
  const $x = toTensor(x, 'x', opName);
  expectShape(opName, 'x', $x, [dim('N'), dim('H'), dim('W'), dim('C')]);
  // N, H or W may be 0 (an empty batch gives an empty output); a block without channels is no block.
  if ($x.shape[3] === 0) throw new Error(`${opName}: x must have at least one channel (C >= 1), got shape [${$x.shape.join(', ')}]`);
  return { $x, c: $x.shape[3] as number };
}

/** Converts the named weights to tensors (inside the op's scope, so they are freed on error). */
export function weightTensors<K extends string>(opName: string, weights: Partial<Record<K, TensorInput>>,
  names: readonly K[]): Record<K, tf.Tensor> {
  const out = {} as Record<K, tf.Tensor>;
  for (const name of names) out[name] = toTensor(weights[name], `weights.${name}`, opName);
  return out;
}

/** Checks the pointwise MLP weights both blocks share: w1 [C, D], b1 [D], w2 [D, C], b2 [C]. Returns D. */
export function expectMlpWeights(opName: string, w: Record<'w1' | 'b1' | 'w2' | 'b2', tf.Tensor>, c: number): number {
  expectShape(opName, 'weights.w1', w.w1, [dim('C', c, 'x'), dim('D')]);
  const d = w.w1.shape[1] as number;
  if (d === 0) {
    throw new Error(`${opName}: weights.w1 must have at least one hidden channel (D >= 1), got shape [${w.w1.shape.join(', ')}]`);
  }
  expectShape(opName, 'weights.b1', w.b1, [dim('D', d)]);
  expectShape(opName, 'weights.w2', w.w2, [dim('D', d), dim('C', c, 'x')]);
  expectShape(opName, 'weights.b2', w.b2, [dim('C', c, 'x')]);
  return d;
}
