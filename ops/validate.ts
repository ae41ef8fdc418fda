import * as tf from '@tensorflow/tfjs-core';
import { ACTIVATIONS, type Activation, isActivation } from '../src/spec/activations.js';

/** Anything an op accepts in place of a tensor, as in TF.js's own ops. */
export type TensorInput = tf.Tensor | tf.TensorLike;

/** One expected dimension: a fixed size, or null for "any", with the symbol shown in messages. */
export type Dim = { size: number | null; name: string };

export function dim(name: string, size: number | null = null): Dim {
  return { size, name };
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
    throw new Error(`${opName}: ${arg} must have shape ${formatShape(dims)}, got [${t.shape.join(', ')}]`);
  }
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
