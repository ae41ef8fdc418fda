import * as tf from '@tensorflow/tfjs-core';
import { type Activation, GELU_TANH_COEFF, SQRT1_2, SQRT_2_OVER_PI } from '../../spec/activations.js';

/** Applies an activation with stock TF.js ops (differentiable on every backend). */
export function applyActivation(h: tf.Tensor, activation: Activation): tf.Tensor {
  switch (activation) {
    case 'gelu':
      return tf.mul(tf.mul(h, 0.5), tf.add(1, tf.erf(tf.mul(h, SQRT1_2))));
    case 'gelu_tanh': {
      const inner = tf.mul(SQRT_2_OVER_PI, tf.add(h, tf.mul(GELU_TANH_COEFF, tf.mul(h, tf.mul(h, h)))));
      return tf.mul(tf.mul(h, 0.5), tf.add(1, tf.tanh(inner)));
    }
    case 'silu':
      return tf.mul(h, tf.sigmoid(h));
    case 'relu':
      return tf.relu(h);
    case 'relu6':
      return tf.relu6(h);
  }
}
