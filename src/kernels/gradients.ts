import * as tf from '@tensorflow/tfjs-core';
import { CONVFIRST_INPUTS, CONVNEXT_INPUTS, type ConvFirstAttrs, type ConvNeXtAttrs, FUSED_CONVFIRST_BLOCK,
  FUSED_CONVNEXT_BLOCK, FUSED_LAYER_NORM } from '../spec/block_spec.js';
import { LAYER_NORM_INPUTS, type LayerNormAttrs } from '../spec/layer_norm.js';
import { convfirstBlockReference, convnextBlockReference } from './reference/block_reference.js';
import { layerNormReference } from './reference/layer_norm_reference.js';
import { FUSED_PATCH_CONV, type PatchConvAttrs, patchConvInputNames } from '../spec/patch_conv.js';
import { patchConvReference } from './reference/patch_conv_reference.js';
import { CLASSIFIER_HEAD_INPUTS, type ClassifierHeadAttrs, FUSED_CLASSIFIER_HEAD } from '../spec/classifier_head.js';
import { classifierHeadReference } from './reference/classifier_head_reference.js';

/** Whether tfjs-core's own gradients are registered (they are not with tfjs-core alone). */
function stockGradientsRegistered(): boolean {
  return tf.getGradient('Sum') != null;
}

function missingGradientsMessage(what: string): string {
  return `tfjs-block-fusion: gradients of ${what} are computed through stock TF.js ops, whose gradients are not ` +
    "registered: import '@tensorflow/tfjs' (or, in a bundler, '@tensorflow/tfjs-core/dist/register_all_gradients')";
}

/**
 * Called by every op before it runs its kernel: under tf.grad / tf.grads without the stock gradients, fail now.
 * Failing later, in the backward pass, would leave the inputs the engine saved for it allocated (tfjs frees them
 * only after a backward pass that succeeds).
 */
export function expectGradientsWhileRecording(opName: string): void {
  const state = (tf.engine() as unknown as { state: { gradientDepth: number } }).state;
  if (state.gradientDepth > 0 && !stockGradientsRegistered()) throw new Error(missingGradientsMessage(opName));
}

/**
 * The ops differentiate through the reference composition: the backward pass recomputes the block with
 * stock ops under a tape and takes its vector-Jacobian product. `saveAllInputs` keeps the inputs in the
 * order the op passed them (layerScale, when present, last).
 */
function blockGradient(inputNames: readonly string[] | ((attrs: tf.NamedAttrMap) => readonly string[]), forward: (t: Record<string, tf.Tensor>, attrs: tf.NamedAttrMap) =>
  tf.Tensor): tf.GradFunc {
  return (dy, saved, attrs) => {
    const names = typeof inputNames === 'function' ? inputNames(attrs) : inputNames;
    const present = names.slice(0, saved.length);
    const f = (...xs: tf.Tensor[]) => forward(Object.fromEntries(present.map((n, i) => [n, xs[i]])), attrs);
    if (!stockGradientsRegistered()) throw new Error(missingGradientsMessage('the fused ops'));
    // tf.grads inside a gradient function clears the engine's active tape when it finishes, which the outer
    // backward pass still needs (to free its saved tensors): keep and restore it.
    const state = (tf.engine() as unknown as { state: { activeTape: unknown } }).state;
    const outerTape = state.activeTape;
    let grads: tf.Tensor[];
    try {
      grads = tf.grads(f)(saved, dy as tf.Tensor);
    } finally {
      state.activeTape = outerTape;
    }
    // The ops pass inputs as an array, so the engine names them '0', '1', ...
    return Object.fromEntries(present.map((_, i) => [String(i), () => grads[i]]));
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

export const layerNormGradConfig: tf.GradConfig = {
  kernelName: FUSED_LAYER_NORM,
  saveAllInputs: true,
  gradFunc: blockGradient(LAYER_NORM_INPUTS, (t, attrs) =>
    layerNormReference(t as never, attrs as unknown as LayerNormAttrs)),
};

export const patchConvGradConfig: tf.GradConfig = {
  kernelName: FUSED_PATCH_CONV,
  saveAllInputs: true,
  gradFunc: blockGradient((attrs) => patchConvInputNames(attrs as unknown as PatchConvAttrs), (t, attrs) =>
    patchConvReference(t as never, attrs as unknown as PatchConvAttrs)),
};

export const classifierHeadGradConfig: tf.GradConfig = {
  kernelName: FUSED_CLASSIFIER_HEAD,
  saveAllInputs: true,
  gradFunc: blockGradient(CLASSIFIER_HEAD_INPUTS, (t, attrs) =>
    classifierHeadReference(t as never, attrs as unknown as ClassifierHeadAttrs)),
};
