import * as tf from '@tensorflow/tfjs-core';
import { CONVFIRST_INPUTS, CONVNEXT_INPUTS, type ConvFirstAttrs, type ConvNeXtAttrs, FUSED_CONVFIRST_BLOCK,
  FUSED_CONVNEXT_BLOCK } from '../spec/block_spec.js';
import { convfirstBlockReference, convnextBlockReference } from './reference/block_reference.js';

/**
 * Both ops differentiate through the reference composition: the backward pass recomputes the block with
 * stock ops under a tape and takes its vector-Jacobian product. `saveAllInputs` keeps the inputs in the
 * order the op passed them (layerScale, when present, last).
 */
function blockGradient(names: readonly string[], forward: (t: Record<string, tf.Tensor>, attrs: tf.NamedAttrMap) =>
  tf.Tensor): tf.GradFunc {
  return (dy, saved, attrs) => {
    const present = names.slice(0, saved.length);
    const f = (...xs: tf.Tensor[]) => forward(Object.fromEntries(present.map((n, i) => [n, xs[i]])), attrs);
    const grads = tf.grads(f)(saved, dy as tf.Tensor);
    return Object.fromEntries(present.map((n, i) => [n, () => grads[i]]));
  };
}

export const convnextGradConfig: tf.GradConfig = {
  kernelName: FUSED_CONVNEXT_BLOCK,
  saveAllInputs: true,
  gradFunc: blockGradient(CONVNEXT_INPUTS, (t, attrs) =>
    convnextBlockReference(t as never, attrs as unknown as ConvNeXtAttrs)),
};

export const convfirstGradConfig: tf.GradConfig = {
  kernelName: FUSED_CONVFIRST_BLOCK,
  saveAllInputs: true,
  gradFunc: blockGradient(CONVFIRST_INPUTS, (t, attrs) =>
    convfirstBlockReference(t as never, attrs as unknown as ConvFirstAttrs)),
};
