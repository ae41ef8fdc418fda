import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../src/spec/activations.js';
import { type ConvFirstAttrs, FUSED_CONVFIRST_BLOCK } from '../src/spec/block_spec.js';
import { ensureKernelsForActiveBackend } from '../src/kernels/register.js';
import { dim, expectActivation, expectOddKernel, expectShape, type TensorInput, toTensor } from './validate.js';

export interface ConvFirstBlockWeights {
  /** Grouped conv filter [k, k, G, C]: G input channels per group (1 = depthwise), BatchNorm folded in. */
  filter: TensorInput;
  bias: TensorInput;
  /** Expand weights [C, D]. */
  w1: TensorInput;
  b1: TensorInput;
  /** Project weights [D, C]. */
  w2: TensorInput;
  b2: TensorInput;
}

export interface ConvFirstBlockOptions {
  /** Hidden activation, 'silu' by default. */
  activation?: Activation;
  /** Add the block input to its output (default true). */
  residual?: boolean;
}

const OP = 'convfirstBlock';

/**
 * One ConvFirst block (Lavin 2024) on NHWC float32 input, BatchNorm already folded:
 * `y = x + W2^T act(W1^T gconv(x) + b1) + b2`.
 */
function convfirstBlock_(x: tf.Tensor4D | TensorInput, weights: ConvFirstBlockWeights,
  options: ConvFirstBlockOptions = {}): tf.Tensor4D {
  if (weights == null || typeof weights !== 'object') {
    throw new Error(`${OP}: weights must be an object of tensors, got ${weights}`);
  }
  const $x = toTensor(x, 'x', OP);
  expectShape(OP, 'x', $x, [dim('N'), dim('H'), dim('W'), dim('C')]);
  const c = $x.shape[3] as number;
  const w = {
    filter: toTensor(weights.filter, 'weights.filter', OP),
    bias: toTensor(weights.bias, 'weights.bias', OP),
    w1: toTensor(weights.w1, 'weights.w1', OP),
    b1: toTensor(weights.b1, 'weights.b1', OP),
    w2: toTensor(weights.w2, 'weights.w2', OP),
    b2: toTensor(weights.b2, 'weights.b2', OP),
  };
  expectShape(OP, 'weights.filter', w.filter, [dim('k'), dim('k'), dim('G'), dim('C', c)]);
  expectOddKernel(OP, 'weights.filter', w.filter);
  const g = w.filter.shape[2] as number;
  if (g < 1 || c % g !== 0) {
    throw new Error(`${OP}: channels C = ${c} must be divisible by the group width G = ${g} ` +
      `(weights.filter shape [k, k, G, C] = [${w.filter.shape.join(', ')}])`);
  }
  expectShape(OP, 'weights.bias', w.bias, [dim('C', c)]);
  expectShape(OP, 'weights.w1', w.w1, [dim('C', c), dim('D')]);
  const d = w.w1.shape[1] as number;
  expectShape(OP, 'weights.b1', w.b1, [dim('D', d)]);
  expectShape(OP, 'weights.w2', w.w2, [dim('D', d), dim('C', c)]);
  expectShape(OP, 'weights.b2', w.b2, [dim('C', c)]);
  const residual = options.residual ?? true;
  if (typeof residual !== 'boolean') {
    throw new Error(`${OP}: options.residual must be a boolean, got ${JSON.stringify(residual)}`);
  }
  const attrs: ConvFirstAttrs = { activation: expectActivation(OP, options.activation ?? 'silu'), residual };
  ensureKernelsForActiveBackend();
  // In CONVFIRST_INPUTS order (see register.ts for why an array).
  const inputs = [$x, w.filter, w.bias, w.w1, w.b1, w.w2, w.b2];
  return tf.engine().runKernel(FUSED_CONVFIRST_BLOCK, inputs as unknown as tf.NamedTensorMap,
    attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

export const convfirstBlock = tf.op({ convfirstBlock_ });
