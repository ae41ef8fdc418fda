import * as tf from '@tensorflow/tfjs-core';
import type { ClassifierHeadAttrs } from '../../spec/classifier_head.js';
import { layerNormReference } from './layer_norm_reference.js';

export interface ClassifierHeadInputs {
  x: tf.Tensor4D; gamma: tf.Tensor1D; beta: tf.Tensor1D; weight: tf.Tensor2D; bias: tf.Tensor1D;
}

/**
 * The reference head with stock ops, in the order the unfused graph runs them (Mean over H, W; the
 * two-pass LayerNorm; MatMul; bias add), so the stock graph and this fallback round alike. Call inside tf.tidy.
 */
export function classifierHeadReference(t: ClassifierHeadInputs, attrs: ClassifierHeadAttrs): tf.Tensor2D {
  const pooled = tf.mean(t.x, [1, 2]) as tf.Tensor2D;
  const z = layerNormReference({ x: pooled, gamma: t.gamma, beta: t.beta }, attrs) as tf.Tensor2D;
  return tf.add(tf.matMul(z, t.weight), t.bias);
}
