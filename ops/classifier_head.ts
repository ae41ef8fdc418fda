import * as tf from '@tensorflow/tfjs-core';
import { type ClassifierHeadAttrs, FUSED_CLASSIFIER_HEAD } from '../src/spec/classifier_head.js';
import { DEFAULT_LAYER_NORM_EPSILON } from '../src/spec/layer_norm.js';
import { ensureKernelsForActiveBackend } from '../src/kernels/register.js';
import { expectGradientsWhileRecording } from '../src/kernels/gradients.js';
import { dim, expectEpsilon, expectShape, optionsObject, type TensorInput, toTensor } from './validate.js';

export interface ClassifierHeadOptions {
  /** Added to the variance of the pooled row; a number in float32's normal range (> 0). Default 1e-6 (ConvNeXt's). */
  epsilon?: number;
}

const OP = 'classifierHead';

/**
 * The classifier head of a ConvNeXt-class net: global average pool of x [N, H, W, C] over H and W, LayerNorm
 * over C (biased variance), then `z @ weight + bias` with weight [C, K] and bias [K]. Returns [N, K].
 * One dispatch on webgpu; the reference composition of stock ops elsewhere (webgl included).
 */
function classifierHead_(x: tf.Tensor4D | TensorInput, gamma: TensorInput, beta: TensorInput, weight: TensorInput,
  bias: TensorInput, options: ClassifierHeadOptions | null = {}): tf.Tensor2D {
  const o = optionsObject(OP, options);
  const $x = toTensor(x, 'x', OP);
  expectShape(OP, 'x', $x, [dim('N'), dim('H'), dim('W'), dim('C')]);
  const [, h, w, c] = $x.shape;
  if (h < 1 || w < 1 || c < 1) {
    throw new Error(`${OP}: x must have H, W and C >= 1 (the pool and the LayerNorm need values), got [${$x.shape.join(', ')}]`);
  }
  const $gamma = toTensor(gamma, 'gamma', OP);
  const $beta = toTensor(beta, 'beta', OP);
  const $weight = toTensor(weight, 'weight', OP);
  const $bias = toTensor(bias, 'bias', OP);
  expectShape(OP, 'gamma', $gamma, [dim('C', c, 'x')]);
  expectShape(OP, 'beta', $beta, [dim('C', c, 'x')]);
  expectShape(OP, 'weight', $weight, [dim('C', c, 'x'), dim('K')]);
  const k = $weight.shape[1] as number;
  if (k < 1) throw new Error(`${OP}: weight must have K >= 1 output columns, got [${$weight.shape.join(', ')}]`);
  expectShape(OP, 'bias', $bias, [dim('K', k)]);
  const attrs: ClassifierHeadAttrs = { epsilon: expectEpsilon(OP, 'options.epsilon', o.epsilon, DEFAULT_LAYER_NORM_EPSILON) };
  ensureKernelsForActiveBackend();
  expectGradientsWhileRecording(OP);
  return tf.engine().runKernel(FUSED_CLASSIFIER_HEAD, [$x, $gamma, $beta, $weight, $bias] as unknown as tf.NamedTensorMap,
    attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}

export const classifierHead = tf.op({ classifierHead_ });
