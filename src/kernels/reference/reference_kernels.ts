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

/**
 * Kernel functions that run the reference composition on whatever backend is active. A kernel may return
 * a Tensor (the engine adopts it); the tidy frees every intermediate so the engine's leak check passes.
 */
export function convnextReferenceKernel({ inputs, attrs }: { inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  return withForeignInputsMoved(inputs, () => {
    const empty = emptyOutput((inputs.x as tf.TensorInfo).shape);
    if (empty != null) return empty;
    return tf.tidy(() => convnextBlockReference(inputs as unknown as ConvNeXtInputs, attrs as unknown as ConvNeXtAttrs));
  });
}

export function convfirstReferenceKernel({ inputs, attrs }: { inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  return withForeignInputsMoved(inputs, () => {
    const empty = emptyOutput((inputs.x as tf.TensorInfo).shape);
    if (empty != null) return empty;
    return tf.tidy(() => convfirstBlockReference(inputs as unknown as ConvFirstInputs,
      attrs as unknown as ConvFirstAttrs));
  });
}

export function layerNormReferenceKernel({ inputs, attrs }: { inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  return withForeignInputsMoved(inputs, () =>
    tf.tidy(() => layerNormReference(inputs as unknown as LayerNormInputs, attrs as unknown as LayerNormAttrs)));
}

export function patchConvReferenceKernel({ inputs, attrs }: { inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  return withForeignInputsMoved(inputs, () => {
    const [n, h, w] = (inputs.x as tf.TensorInfo).shape;
    const [k, , , cout] = (inputs.filter as tf.TensorInfo).shape;
    const empty = emptyOutput([n, ...patchConvOutputSize(h, w, k), cout]);
    if (empty != null) return empty;
    return tf.tidy(() => patchConvReference(inputs as unknown as PatchConvInputs, attrs as unknown as PatchConvAttrs));
  });
}

/** FusedClassifierHead's reference; webgl runs it too (the head is tiny; a fused GLSL head is not worth a pass). */
export function classifierHeadReferenceKernel({ inputs, attrs }: { inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  return withForeignInputsMoved(inputs, () => {
    const empty = emptyOutput([(inputs.x as tf.TensorInfo).shape[0], (inputs.weight as tf.TensorInfo).shape[1]]);
    if (empty != null) return empty;
    return tf.tidy(() => classifierHeadReference(inputs as unknown as ClassifierHeadInputs,
      attrs as unknown as ClassifierHeadAttrs));
  });
}

export function referenceKernelConfigs(backendName: string): tf.KernelConfig[] {
  return [
    { kernelName: FUSED_CONVNEXT_BLOCK, backendName, kernelFunc: convnextReferenceKernel as tf.KernelFunc },
    { kernelName: FUSED_CONVFIRST_BLOCK, backendName, kernelFunc: convfirstReferenceKernel as tf.KernelFunc },
    { kernelName: FUSED_LAYER_NORM, backendName, kernelFunc: layerNormReferenceKernel as tf.KernelFunc },
    { kernelName: FUSED_PATCH_CONV, backendName, kernelFunc: patchConvReferenceKernel as tf.KernelFunc },
    { kernelName: FUSED_CLASSIFIER_HEAD, backendName, kernelFunc: classifierHeadReferenceKernel as tf.KernelFunc },
  ];
}
