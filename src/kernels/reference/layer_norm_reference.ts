import * as tf from '@tensorflow/tfjs-core';
import type { LayerNormAttrs } from '../../spec/layer_norm.js';

export interface LayerNormInputs { x: tf.Tensor; gamma: tf.Tensor1D; beta: tf.Tensor1D }

/**
 * The reference LayerNorm over the last axis, with stock ops in the order GraphBuilder.layerNorm emits them
 * (two-pass moments), so the stock graph and this fallback round alike. Call inside tf.tidy.
 */
export function layerNormReference(t: LayerNormInputs, attrs: LayerNormAttrs): tf.Tensor {
  // As rows [-1, C]: the same arithmetic at any rank, and tfjs-backend-webgpu's broadcasting binary ops stop at
  // rank 4 (a rank-5 x gave validation errors, zeros for the gradient and a poisoned command buffer).
  const c = t.x.shape[t.x.rank - 1];
  const x = t.x.rank === 2 ? t.x : tf.reshape(t.x, [-1, c]);
  const mean = tf.mean(x, -1, true);
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centered), -1, true);
  const inv = tf.rsqrt(tf.add(variance, attrs.epsilon));
  const y = tf.add(tf.mul(tf.mul(centered, inv), t.gamma), t.beta);
  return t.x.rank === 2 ? y : tf.reshape(y, t.x.shape);
}
