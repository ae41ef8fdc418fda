import * as tf from '@tensorflow/tfjs-core';
import { FUSED_LAYER_NORM } from '../src/spec/block_spec.js';
import { DEFAULT_LAYER_NORM_EPSILON, type LayerNormAttrs } from '../src/spec/layer_norm.js';
import { ensureKernelsForActiveBackend } from '../src/kernels/register.js';
import { expectGradientsWhileRecording } from '../src/kernels/gradients.js';
import { dim, expectEpsilon, expectShape, optionsObject, type TensorInput, toTensor } from './validate.js';

export interface LayerNormOptions {
  /** Added to the variance; a number in float32's normal range (> 0). Default 1e-6 (ConvNeXt's). */
  epsilon?: number;
}

const OP = 'layerNorm';

/**
 * LayerNorm over the last axis of a float32 tensor of any rank >= 1:
 * `y = (x - mean) / sqrt(var + epsilon) * gamma + beta`, mean and (biased) variance over the last axis.
 * One dispatch on webgpu, two draws on webgl, a composition of stock ops elsewhere.
 */
function layerNorm_<T extends tf.Tensor>(x: T | TensorInput, gamma: TensorInput, beta: TensorInput,
  options: LayerNormOptions | null = {}): T {
  const o = optionsObject(OP, options);
  const $x = toTensor(x, 'x', OP);
  if ($x.dtype !== 'float32') throw new Error(`${OP}: x must be float32, got ${$x.dtype}`);
  if ($x.rank < 1) throw new Error(`${OP}: x must have rank >= 1 (normalized over its last axis), got a scalar`);
  const c = $x.shape[$x.rank - 1];
  if (c < 1) throw new Error(`${OP}: x's last axis (the normalized one) must not be empty, got [${$x.shape.join(', ')}]`);
  const $gamma = toTensor(gamma, 'gamma', OP);
  const $beta = toTensor(beta, 'beta', OP);
  expectShape(OP, 'gamma', $gamma, [dim('C', c, 'x')]);
  expectShape(OP, 'beta', $beta, [dim('C', c, 'x')]);
  const attrs: LayerNormAttrs = { epsilon: expectEpsilon(OP, 'options.epsilon', o.epsilon, DEFAULT_LAYER_NORM_EPSILON) };
  ensureKernelsForActiveBackend();
  expectGradientsWhileRecording(OP);
  return tf.engine().runKernel(FUSED_LAYER_NORM, [$x, $gamma, $beta] as unknown as tf.NamedTensorMap,
    attrs as unknown as tf.NamedAttrMap) as T;
}

export const layerNorm = tf.op({ layerNorm_ });
