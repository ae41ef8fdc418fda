import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../src/spec/activations.js';
import { type ConvFirstAttrs, FUSED_CONVFIRST_BLOCK } from '../src/spec/block_spec.js';
import { ensureKernelsForActiveBackend } from '../src/kernels/register.js';
import { expectGradientsWhileRecording } from '../src/kernels/gradients.js';
import { blockInput, dim, expectActivation, expectMlpWeights, expectOddKernel, expectShape, type TensorInput,
  optionsObject, weightTensors } from './validate.js';

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
  options: ConvFirstBlockOptions | null = {}): tf.Tensor4D {
  const o = optionsObject(OP, options);
  const { $x, c } = blockInput(OP, x, weights);
  const w = weightTensors(OP, weights, ['filter', 'bias', 'w1', 'b1', 'w2', 'b2'] as const);
  expectShape(OP, 'weights.filter', w.filter, [dim('k'), dim('k'), dim('G'), dim('C', c, 'x')]);
  expectOddKernel(OP, 'weights.filter', w.filter);
  const g = w.filter.shape[2] as number;
  if (g < 1 || c % g !== 0) {
    throw new Error(`${OP}: channels C = ${c} must be divisible by the group width G = ${g} ` +
      `(weights.filter shape [k, k, G, C] = [${w.filter.shape.join(', ')}])`);
  }
  expectShape(OP, 'weights.bias', w.bias, [dim('C', c, 'x')]);
  expectMlpWeights(OP, w, c);
  const residual = o.residual ?? true;
  if (typeof residual !== 'boolean') {
    throw new Error(`${OP}: options.residual must be a boolean, got ${JSON.stringify(residual)}`);
  }
  const attrs: ConvFirstAttrs = { activation: expectActivation(OP, o.activation ?? 'silu'), residual };
  ensureKernelsForActiveBackend();
  expectGradientsWhileRecording(OP);
  // In CONVFIRST_INPUTS order (see register.ts for why an array).
  const inputs = [$x, w.filter, w.bias, w.w1, w.b1, w.w2, w.b2];
  return tf.engine().runKernel(FUSED_CONVFIRST_BLOCK, inputs as unknown as tf.NamedTensorMap,
    attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

export const convfirstBlock = tf.op({ convfirstBlock_ });
