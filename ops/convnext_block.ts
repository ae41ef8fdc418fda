import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../src/spec/activations.js';
import { type ConvNeXtAttrs, FUSED_CONVNEXT_BLOCK } from '../src/spec/block_spec.js';
import { DEFAULT_LAYER_NORM_EPSILON } from '../src/spec/layer_norm.js';
import { ensureKernelsForActiveBackend } from '../src/kernels/register.js';
import { expectGradientsWhileRecording } from '../src/kernels/gradients.js';
import { blockInput, dim, expectActivation, expectEpsilon, expectMlpWeights, expectOddKernel, expectShape, type TensorInput, toTensor,
  optionsObject, weightTensors } from './validate.js';

export interface ConvNeXtBlockWeights {
  /** Depthwise filter [k, k, C, 1]. */
  dwFilter: TensorInput;
  /** Depthwise bias [C]. */
  dwBias: TensorInput;
  lnGamma: TensorInput;
  lnBeta: TensorInput;
  /** Expand weights [C, D]. */
  w1: TensorInput;
  b1: TensorInput;
  /** Project weights [D, C]. */
  w2: TensorInput;
  b2: TensorInput;
  /** Optional per-channel layer scale [C]. */
  layerScale?: TensorInput;
}

export interface ConvNeXtBlockOptions {
  /** LayerNorm epsilon; default 1e-6. */
  epsilon?: number;
  /** 'gelu' (exact, erf) by default; 'gelu_tanh' is the tanh approximation. */
  activation?: Activation;
}

const OP = 'convnextBlock';

/**
 * One ConvNeXt block on NHWC float32 input:
 * `y = x + layerScale * (W2^T gelu(W1^T LN(dwconv(x) + dwBias) + b1) + b2)`.
 * Runs as the fused kernel on webgpu / webgl and as a composition of stock ops elsewhere.
 */
function convnextBlock_(x: tf.Tensor4D | TensorInput, weights: ConvNeXtBlockWeights,
  options: ConvNeXtBlockOptions | null = {}): tf.Tensor4D {
  const o = optionsObject(OP, options);
  const { $x, c } = blockInput(OP, x, weights);
  const w = weightTensors(OP, weights, ['dwFilter', 'dwBias', 'lnGamma', 'lnBeta', 'w1', 'b1', 'w2', 'b2'] as const);
  expectShape(OP, 'weights.dwFilter', w.dwFilter, [dim('k'), dim('k'), dim('C', c, 'x'), dim('1', 1)]);
  expectOddKernel(OP, 'weights.dwFilter', w.dwFilter);
  for (const name of ['dwBias', 'lnGamma', 'lnBeta'] as const) {
    expectShape(OP, `weights.${name}`, w[name], [dim('C', c, 'x')]);
  }
  expectMlpWeights(OP, w, c);
  // In CONVNEXT_INPUTS order; layerScale, when given, last.
  const inputs: tf.Tensor[] = [$x, w.dwFilter, w.dwBias, w.lnGamma, w.lnBeta, w.w1, w.b1, w.w2, w.b2];
  if (weights.layerScale != null) {
    const ls = toTensor(weights.layerScale, 'weights.layerScale', OP);
    expectShape(OP, 'weights.layerScale', ls, [dim('C', c, 'x')]);
    inputs.push(ls);
  }
  const attrs: ConvNeXtAttrs = { epsilon: expectEpsilon(OP, 'options.epsilon', o.epsilon, DEFAULT_LAYER_NORM_EPSILON),
    activation: expectActivation(OP, o.activation ?? 'gelu') };
  ensureKernelsForActiveBackend();
  expectGradientsWhileRecording(OP);
  return tf.engine().runKernel(FUSED_CONVNEXT_BLOCK, inputs as unknown as tf.NamedTensorMap,
    attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

export const convnextBlock = tf.op({ convnextBlock_ });
