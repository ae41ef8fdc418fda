import * as tf from '@tensorflow/tfjs-core';
import type { LayerNormAttrs } from '../../spec/layer_norm.js';

export interface LayerNormInputs { x: tf.Tensor; gamma: tf.Tensor1D; beta: tf.Tensor1D }

/**
 * The reference LayerNorm over the last axis, with stock ops in the order GraphBuilder.layerNorm emits them
 * (two-pass moments), so the stock graph and this fallback round alike. Call inside tf.tidy.
 */
export function layerNormReference(t: LayerNormInputs, attrs: LayerNormAttrs): tf.Tensor {
  const mean = tf.mean(t.x, -1, true);
  const centered = tf.sub(t.x, mean);
  const variance = tf.mean(tf.square(centered), -1, true);
  const inv = tf.rsqrt(tf.add(variance, attrs.epsilon));
  return tf.add(tf.mul(tf.mul(centered, inv), t.gamma), t.beta);
}
