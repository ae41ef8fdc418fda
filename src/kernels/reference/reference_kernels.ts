import * as tf from '@tensorflow/tfjs-core';
import { type ConvFirstAttrs, type ConvNeXtAttrs, FUSED_CONVFIRST_BLOCK, FUSED_CONVNEXT_BLOCK, FUSED_LAYER_NORM }
  from '../../spec/block_spec.js';
import type { LayerNormAttrs } from '../../spec/layer_norm.js';
import { type ConvFirstInputs, type ConvNeXtInputs, convfirstBlockReference, convnextBlockReference }
  from './block_reference.js';
import { type LayerNormInputs, layerNormReference } from './layer_norm_reference.js';
import { FUSED_PATCH_CONV, type PatchConvAttrs, patchConvOutputSize } from '../../spec/patch_conv.js';
import { type PatchConvInputs, patchConvReference } from './patch_conv_reference.js';
import { type ClassifierHeadAttrs, FUSED_CLASSIFIER_HEAD } from '../../spec/classifier_head.js';
import { type ClassifierHeadInputs, classifierHeadReference } from './classifier_head_reference.js';
import { withForeignInputsMoved } from '../leak_check.js';

/**
 * An output with no elements (an empty batch or image): the empty tensor, without the stock ops, which throw on size 0
 * (tfjs-backend-wasm's Mean and depthwise conv, tfjs-backend-webgpu's conv2d); the webgl block kernels send empty
 * inputs here too. Null when the output has elements.
 */
function emptyOutput(outShape: number[]): tf.Tensor | null {
  return tf.util.sizeFromShape(outShape) === 0 ? tf.zeros(outShape, 'float32') : null;
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap };
const shapeOf = (t: tf.TensorInfo | undefined): number[] => (t as tf.TensorInfo).shape;

/**
 * A kernel function that runs the reference composition `reference` on whatever backend is active. A kernel may
 * return a Tensor (the engine adopts it); the tidy frees every intermediate so the engine's leak check passes, and
 * inputs made on another backend are moved first (see withForeignInputsMoved). `outShape`: the output's shape, for
 * an empty output made without the stock ops (emptyOutput).
 */
function referenceKernel<I, A>(reference: (inputs: I, attrs: A) => tf.Tensor,
  outShape?: (inputs: tf.NamedTensorInfoMap) => number[]): (args: KernelArgs) => tf.TensorInfo {
  return ({ inputs, attrs }) => withForeignInputsMoved(inputs, () => {
    const empty = outShape == null ? null : emptyOutput(outShape(inputs));
    if (empty != null) return empty;
    return tf.tidy(() => reference(inputs as unknown as I, attrs as unknown as A));
  });
}

export const convnextReferenceKernel = referenceKernel<ConvNeXtInputs, ConvNeXtAttrs>(convnextBlockReference,
  (i) => shapeOf(i.x));

export const convfirstReferenceKernel = referenceKernel<ConvFirstInputs, ConvFirstAttrs>(convfirstBlockReference,
  (i) => shapeOf(i.x));

export const layerNormReferenceKernel = referenceKernel<LayerNormInputs, LayerNormAttrs>(layerNormReference);

export const patchConvReferenceKernel = referenceKernel<PatchConvInputs, PatchConvAttrs>(patchConvReference, (i) => {
  const [n, h, w] = shapeOf(i.x);
  const [k, , , cout] = shapeOf(i.filter);
  return [n, ...patchConvOutputSize(h, w, k), cout];
});

/** FusedClassifierHead's reference; webgl runs it too (the head is tiny; a fused GLSL head is not worth a pass). */
export const classifierHeadReferenceKernel = referenceKernel<ClassifierHeadInputs, ClassifierHeadAttrs>(
  classifierHeadReference, (i) => [shapeOf(i.x)[0], shapeOf(i.weight)[1]]);

export function referenceKernelConfigs(backendName: string): tf.KernelConfig[] {
  return [
    { kernelName: FUSED_CONVNEXT_BLOCK, backendName, kernelFunc: convnextReferenceKernel as tf.KernelFunc },
    { kernelName: FUSED_CONVFIRST_BLOCK, backendName, kernelFunc: convfirstReferenceKernel as tf.KernelFunc },
    { kernelName: FUSED_LAYER_NORM, backendName, kernelFunc: layerNormReferenceKernel as tf.KernelFunc },
    { kernelName: FUSED_PATCH_CONV, backendName, kernelFunc: patchConvReferenceKernel as tf.KernelFunc },
    { kernelName: FUSED_CLASSIFIER_HEAD, backendName, kernelFunc: classifierHeadReferenceKernel as tf.KernelFunc },
  ];
}
