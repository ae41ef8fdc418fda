import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_LAYER_NORM_EPSILON } from '../src/spec/layer_norm.js';
import { FUSED_PATCH_CONV, type PatchConvAttrs } from '../src/spec/patch_conv.js';
import { ensureKernelsForActiveBackend } from '../src/kernels/register.js';
import { dim, expectShape, type TensorInput, toTensor } from './validate.js';

export interface PatchConvOptions {
  /**
   * LayerNorm over x's channels before the conv (the ConvNeXt downsample layer): gamma, beta [Cin] and
   * epsilon (finite, > 0; default 1e-6).
   */
  preNorm?: { gamma: TensorInput; beta: TensorInput; epsilon?: number };
  /**
   * LayerNorm over the conv's output channels (the ConvNeXt stem): gamma, beta [Cout] and epsilon (finite, > 0;
   * default 1e-6).
   */
  postNorm?: { gamma: TensorInput; beta: TensorInput; epsilon?: number };
}

const OP = 'patchConv';

/**
 * A non-overlapping ("patchify") convolution: filter [k, k, Cin, Cout] applied with stride k and VALID
 * padding to x [N, H, W, Cin], plus bias [Cout] when given; output [N, floor(H / k), floor(W / k), Cout].
 * With `preNorm`, x is first LayerNorm'ed over its channels (the ConvNeXt downsample layer, one kernel); with
 * `postNorm`, the output is LayerNorm'ed over its channels (the ConvNeXt stem).
 * One dispatch on webgpu (after a one-time fold of gamma / beta into the weights per weight set), the
 * stock ops (layerNorm, conv2d, add) elsewhere.
 */
function patchConv_(x: tf.Tensor4D | TensorInput, filter: tf.Tensor4D | TensorInput, bias?: tf.Tensor1D | TensorInput | null,
  options: PatchConvOptions = {}): tf.Tensor4D {
  const $x = toTensor(x, 'x', OP);
  expectShape(OP, 'x', $x, [dim('N'), dim('H'), dim('W'), dim('Cin')]);
  const [, h, w, cin] = $x.shape as number[];
  const $filter = toTensor(filter, 'filter', OP);
  expectShape(OP, 'filter', $filter, [dim('k'), dim('k'), dim('Cin', cin), dim('Cout')]);
  const [kh, kw, , cout] = $filter.shape as number[];
  if (kh !== kw || kh < 1) throw new Error(`${OP}: filter must be square (k x k, stride k), got ${kh}x${kw}`);
  if (cout < 1) throw new Error(`${OP}: filter must have at least one output channel, got Cout = ${cout}`);
  if (cin < 1) throw new Error(`${OP}: x must have at least one channel, got [${$x.shape.join(', ')}]`);
  if (h < kh || w < kh) {
    throw new Error(`${OP}: x's H x W = ${h}x${w} is smaller than one ${kh}x${kh} patch`);
  }
  const inputs = [$x, $filter];
  if (bias != null) {
    const $bias = toTensor(bias, 'bias', OP);
    expectShape(OP, 'bias', $bias, [dim('Cout', cout)]);
    inputs.push($bias);
  }
  let epsilon = DEFAULT_LAYER_NORM_EPSILON;
  const pre = options.preNorm;
  if (pre != null) {
    if (typeof pre !== 'object') throw new Error(`${OP}: options.preNorm must be {gamma, beta, epsilon?}, got ${pre}`);
    const $gamma = toTensor(pre.gamma, 'preNorm.gamma', OP);
    const $beta = toTensor(pre.beta, 'preNorm.beta', OP);
    expectShape(OP, 'preNorm.gamma', $gamma, [dim('Cin', cin)]);
    expectShape(OP, 'preNorm.beta', $beta, [dim('Cin', cin)]);
    epsilon = pre.epsilon ?? DEFAULT_LAYER_NORM_EPSILON;
    if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon <= 0) {
      throw new Error(`${OP}: options.preNorm.epsilon must be a finite number > 0, got ${epsilon}`);
    }
    inputs.push($gamma, $beta);
  }
  let postEpsilon = DEFAULT_LAYER_NORM_EPSILON;
  const post = options.postNorm;
  if (post != null) {
    if (typeof post !== 'object') throw new Error(`${OP}: options.postNorm must be {gamma, beta, epsilon?}, got ${post}`);
    const $gamma = toTensor(post.gamma, 'postNorm.gamma', OP);
    const $beta = toTensor(post.beta, 'postNorm.beta', OP);
    expectShape(OP, 'postNorm.gamma', $gamma, [dim('Cout', cout)]);
    expectShape(OP, 'postNorm.beta', $beta, [dim('Cout', cout)]);
    postEpsilon = post.epsilon ?? DEFAULT_LAYER_NORM_EPSILON;
    if (typeof postEpsilon !== 'number' || !Number.isFinite(postEpsilon) || postEpsilon <= 0) {
      throw new Error(`${OP}: options.postNorm.epsilon must be a finite number > 0, got ${postEpsilon}`);
    }
    inputs.push($gamma, $beta);
  }
  const attrs: PatchConvAttrs = { hasBias: bias != null, preNorm: pre != null, epsilon, postNorm: post != null, postEpsilon };
  ensureKernelsForActiveBackend();
  return tf.engine().runKernel(FUSED_PATCH_CONV, inputs as unknown as tf.NamedTensorMap,
    attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

export const patchConv = tf.op({ patchConv_ });
