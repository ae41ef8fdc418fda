import * as tf from '@tensorflow/tfjs-core';
import type { LayerNormAttrs } from '../../spec/layer_norm.js';

export interface LayerNormInputs { x: tf.Tensor; gamma: tf.Tensor1D; beta: tf.Tensor1D }

/**
 * The reference LayerNorm over the last axis, with stock ops in the order GraphBuilder.layerNorm emits them
 * (two-pass moments), of the rows shifted by their first value. Call inside tf.tidy.
 */
export function layerNormReference(t: LayerNormInputs, attrs: LayerNormAttrs): tf.Tensor {
  // As rows [-1, C]: the same arithmetic at any rank, and tfjs-backend-webgpu's broadcasting binary ops stop at
  // rank 4 (a rank-5 x gave validation errors, zeros for the gradient and a poisoned command buffer).
  const c = t.x.shape[t.x.rank - 1];
  const x = t.x.rank === 2 ? t.x : tf.reshape(t.x, [-1, c]);
  // Moments of each row shifted by its first value, as the fused kernels: a row of equal values then has exactly
  // zero deviations (y = beta), which tf.mean's rounded sum and division do not give (a row of 0.1s or 1e18s).
  const shifted = tf.sub(x, tf.slice(x, [0, 0], [-1, 1]));
  const mean = tf.mean(shifted, -1, true);
  const centered = tf.sub(shifted, mean);
  const variance = tf.mean(tf.square(centered), -1, true);
  const inv = tf.rsqrt(tf.add(variance, attrs.epsilon));
  const y = tf.add(tf.mul(tf.mul(centered, inv), t.gamma), t.beta);
  return t.x.rank === 2 ? y : tf.reshape(y, t.x.shape);
}
