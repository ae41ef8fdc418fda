import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../src/spec/activations.js';
import { type ConvNeXtAttrs, FUSED_CONVNEXT_BLOCK } from '../src/spec/block_spec.js';
import { ensureKernelsForActiveBackend } from '../src/kernels/register.js';
import { dim, expectActivation, expectOddKernel, expectShape, type TensorInput, toTensor } from './validate.js';

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
  options: ConvNeXtBlockOptions = {}): tf.Tensor4D {
  if (weights == null || typeof weights !== 'object') {
    throw new Error(`${OP}: weights must be an object of tensors, got ${weights}`);
  }
  const $x = toTensor(x, 'x', OP);
  expectShape(OP, 'x', $x, [dim('N'), dim('H'), dim('W'), dim('C')]);
  const c = $x.shape[3] as number;
  const w = {
    dwFilter: toTensor(weights.dwFilter, 'weights.dwFilter', OP),
    dwBias: toTensor(weights.dwBias, 'weights.dwBias', OP),
    lnGamma: toTensor(weights.lnGamma, 'weights.lnGamma', OP),
    lnBeta: toTensor(weights.lnBeta, 'weights.lnBeta', OP),
    w1: toTensor(weights.w1, 'weights.w1', OP),
    b1: toTensor(weights.b1, 'weights.b1', OP),
    w2: toTensor(weights.w2, 'weights.w2', OP),
    b2: toTensor(weights.b2, 'weights.b2', OP),
  };
  expectShape(OP, 'weights.dwFilter', w.dwFilter, [dim('k'), dim('k'), dim('C', c), dim('1', 1)]);
  expectOddKernel(OP, 'weights.dwFilter', w.dwFilter);
  for (const name of ['dwBias', 'lnGamma', 'lnBeta', 'b2'] as const) {
    expectShape(OP, `weights.${name}`, w[name], [dim('C', c)]);
  }
  expectShape(OP, 'weights.w1', w.w1, [dim('C', c), dim('D')]);
  const d = w.w1.shape[1] as number;
  expectShape(OP, 'weights.b1', w.b1, [dim('D', d)]);
  expectShape(OP, 'weights.w2', w.w2, [dim('D', d), dim('C', c)]);
  // In CONVNEXT_INPUTS order; layerScale, when given, last.
  const inputs: tf.Tensor[] = [$x, w.dwFilter, w.dwBias, w.lnGamma, w.lnBeta, w.w1, w.b1, w.w2, w.b2];
  if (weights.layerScale != null) {
    const ls = toTensor(weights.layerScale, 'weights.layerScale', OP);
    expectShape(OP, 'weights.layerScale', ls, [dim('C', c)]);
    inputs.push(ls);
  }
  const epsilon = options.epsilon ?? 1e-6;
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon < 0) {
    throw new Error(`${OP}: options.epsilon must be a finite number >= 0, got ${epsilon}`);
  }
  const attrs: ConvNeXtAttrs = { epsilon, activation: expectActivation(OP, options.activation ?? 'gelu') };
  ensureKernelsForActiveBackend();
  return tf.engine().runKernel(FUSED_CONVNEXT_BLOCK, inputs as unknown as tf.NamedTensorMap,
    attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

export const convnextBlock = tf.op({ convnextBlock_ });
