import * as tf from '@tensorflow/tfjs-core';
import type { PatchConvAttrs } from '../../spec/patch_conv.js';
import { layerNormReference } from './layer_norm_reference.js';

export interface PatchConvInputs {
  x: tf.Tensor4D; filter: tf.Tensor4D; bias?: tf.Tensor1D; gamma?: tf.Tensor1D; beta?: tf.Tensor1D;
  postGamma?: tf.Tensor1D; postBeta?: tf.Tensor1D;
}

/**
 * The reference patch conv with stock ops: LayerNorm (as layerNormReference) when preNorm, conv2d with
 * stride k and VALID padding, bias add, LayerNorm of the output when postNorm. Call inside tf.tidy.
 */
export function patchConvReference(t: PatchConvInputs, attrs: PatchConvAttrs): tf.Tensor4D {
  const k = t.filter.shape[0];
  const xn = attrs.preNorm ?
    layerNormReference({ x: t.x, gamma: t.gamma as tf.Tensor1D, beta: t.beta as tf.Tensor1D }, attrs) as tf.Tensor4D :
    t.x;
  const conv = tf.conv2d(xn, t.filter, k, 'valid');
  const y: tf.Tensor4D = attrs.hasBias ? tf.add(conv, t.bias as tf.Tensor1D) : conv;
  return attrs.postNorm ? layerNormReference({ x: y, gamma: t.postGamma as tf.Tensor1D, beta: t.postBeta as tf.Tensor1D },
    { epsilon: attrs.postEpsilon }) as tf.Tensor4D : y;
}
