import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_LAYER_NORM_EPSILON } from '../src/spec/layer_norm.js';
import { FUSED_PATCH_CONV, type PatchConvAttrs } from '../src/spec/patch_conv.js';
import { ensureKernelsForActiveBackend } from '../src/kernels/register.js';
import { expectGradientsWhileRecording } from '../src/kernels/gradients.js';
import { type Dim, describeValue, dim, expectEpsilon, expectShape, optionsObject, type TensorInput, toTensor } from './validate.js';

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
 * On webgpu one to three dispatches (the GEMM, a split-K sum and a LayerNorm pass where the plan needs them;
 * docs/patch_conv.md) after a one-time fold of gamma / beta into the weights per weight set; the stock ops
 * (layerNorm, conv2d, add) elsewhere.
 */
function patchConv_(x: tf.Tensor4D | TensorInput, filter: tf.Tensor4D | TensorInput, bias?: tf.Tensor1D | TensorInput | null,
  options: PatchConvOptions | null = {}): tf.Tensor4D {
  const opts = optionsObject(OP, options);
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
  const pre = opts.preNorm;
  const epsilon = pre == null ? DEFAULT_LAYER_NORM_EPSILON : normInputs('preNorm', pre, dim('Cin', cin), inputs);
  const post = opts.postNorm;
  const postEpsilon = post == null ? DEFAULT_LAYER_NORM_EPSILON : normInputs('postNorm', post, dim('Cout', cout), inputs);
  const attrs: PatchConvAttrs = { hasBias: bias != null, preNorm: pre != null, epsilon, postNorm: post != null, postEpsilon };
  ensureKernelsForActiveBackend();
  expectGradientsWhileRecording(OP);
  return tf.engine().runKernel(FUSED_PATCH_CONV, inputs as unknown as tf.NamedTensorMap,
    attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/**
 * A folded LayerNorm's options checked (gamma and beta of `size` channels, epsilon a normal float32 > 0), its gamma and beta
 * appended to `inputs`; returns its epsilon.
 */
function normInputs(which: 'preNorm' | 'postNorm', o: { gamma: TensorInput; beta: TensorInput; epsilon?: number },
  size: Dim, inputs: tf.Tensor[]): number {
  if (o === null || typeof o !== 'object') throw new Error(`${OP}: options.${which} must be {gamma, beta, epsilon?}, got ${describeValue(o)}`);
  const $gamma = toTensor(o.gamma, `${which}.gamma`, OP);
  const $beta = toTensor(o.beta, `${which}.beta`, OP);
  expectShape(OP, `${which}.gamma`, $gamma, [size]);
  expectShape(OP, `${which}.beta`, $beta, [size]);
  const epsilon = expectEpsilon(OP, `options.${which}.epsilon`, o.epsilon, DEFAULT_LAYER_NORM_EPSILON);
  inputs.push($gamma, $beta);
  return epsilon;
}

export const patchConv = tf.op({ patchConv_ });
