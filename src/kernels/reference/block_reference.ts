import * as tf from '@tensorflow/tfjs-core';
import type { ConvFirstAttrs, ConvNeXtAttrs } from '../../spec/block_spec.js';
import { applyActivation } from './activation.js';
import { layerNormReference } from './layer_norm_reference.js';

/**
 * Reference block implementations: compositions of stock TF.js ops, written for clarity. They are the
 * oracle for the fused kernels, the fallback on backends without one, and (through autodiff) the
 * gradient of both ops. Call inside tf.tidy.
 */

export interface ConvNeXtInputs {
  x: tf.Tensor4D; dwFilter: tf.Tensor4D; dwBias: tf.Tensor1D; lnGamma: tf.Tensor1D; lnBeta: tf.Tensor1D;
  w1: tf.Tensor2D; b1: tf.Tensor1D; w2: tf.Tensor2D; b2: tf.Tensor1D; layerScale?: tf.Tensor1D;
}

export interface ConvFirstInputs {
  x: tf.Tensor4D; filter: tf.Tensor4D; bias: tf.Tensor1D;
  w1: tf.Tensor2D; b1: tf.Tensor1D; w2: tf.Tensor2D; b2: tf.Tensor1D;
}

/** W2^T act(W1^T h + b1) + b2 over the pixels of h [N,H,W,C]. */
function pointwiseMlp(h: tf.Tensor4D, w1: tf.Tensor2D, b1: tf.Tensor1D, w2: tf.Tensor2D, b2: tf.Tensor1D,
  activation: ConvNeXtAttrs['activation']): tf.Tensor4D {
  const [n, height, width, c] = h.shape;
  const rows = tf.reshape(h, [n * height * width, c]);
  const hidden = applyActivation(tf.add(tf.matMul(rows, w1), b1), activation);
  const out = tf.add(tf.matMul(hidden as tf.Tensor2D, w2), b2);
  return tf.reshape(out, [n, height, width, w2.shape[1]]);
}

export function convnextBlockReference(t: ConvNeXtInputs, attrs: ConvNeXtAttrs): tf.Tensor4D {
  const dw = tf.add(tf.depthwiseConv2d(t.x, t.dwFilter, 1, 'same'), t.dwBias) as tf.Tensor4D;
  // Not tf.moments: a pixel whose channels are equal must normalize to beta (see layerNormReference).
  const normed = layerNormReference({ x: dw, gamma: t.lnGamma, beta: t.lnBeta }, attrs) as tf.Tensor4D;
  let branch: tf.Tensor4D = pointwiseMlp(normed, t.w1, t.b1, t.w2, t.b2, attrs.activation);
  if (t.layerScale != null) branch = tf.mul(branch, t.layerScale);
  return tf.add(t.x, branch);
}

/**
 * Grouped k x k conv, filter [k,k,G,C] (G input channels per group, C/G groups of G outputs), as one
 * depthwise conv with channel multiplier G followed by a sum over each group's inputs: stock TF.js has no
 * grouped conv, and this keeps the FLOPs of a true grouped conv.
 */
export function groupedConv2d(x: tf.Tensor4D, filter: tf.Tensor4D): tf.Tensor4D {
  const [k, , g, c] = filter.shape;
  if (g === 1) return tf.depthwiseConv2d(x, tf.reshape(filter, [k, k, c, 1]), 1, 'same');
  // depthwise channel (group*G + i)*G + m holds input i of the group convolved for output m.
  const dwFilter = tf.reshape(tf.transpose(tf.reshape(filter, [k, k, g, c / g, g]), [0, 1, 3, 2, 4]), [k, k, c, g]);
  const partial = tf.depthwiseConv2d(x, dwFilter as tf.Tensor4D, 1, 'same');
  const [n, h, w] = x.shape;
  return tf.reshape(tf.sum(tf.reshape(partial, [n, h, w, c / g, g, g]), 4), [n, h, w, c]);
}

export function convfirstBlockReference(t: ConvFirstInputs, attrs: ConvFirstAttrs): tf.Tensor4D {
  const conv = tf.add(groupedConv2d(t.x, t.filter), t.bias) as tf.Tensor4D;
  const branch = pointwiseMlp(conv, t.w1, t.b1, t.w2, t.b2, attrs.activation);
  return attrs.residual ? tf.add(t.x, branch) : branch;
}
