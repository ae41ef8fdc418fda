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

/**
 * An empty x (N, H or W = 0): an empty output, without the stock ops (tfjs-backend-wasm's throw on size 0); the webgl
 * block kernels send empty inputs here too.
 */
function emptyBlockOutput(x: tf.TensorInfo): tf.Tensor | null {
  return tf.util.sizeFromShape(x.shape) === 0 ? tf.zeros(x.shape, 'float32') : null;
}

/**
 * Kernel functions that run the reference composition on whatever backend is active. A kernel may return
 * a Tensor (the engine adopts it); the tidy frees every intermediate so the engine's leak check passes.
 */
export function convnextReferenceKernel({ inputs, attrs }: { inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const empty = emptyBlockOutput(inputs.x as tf.TensorInfo);
  if (empty != null) return empty;
  return tf.tidy(() => convnextBlockReference(inputs as unknown as ConvNeXtInputs, attrs as unknown as ConvNeXtAttrs));
}

export function convfirstReferenceKernel({ inputs, attrs }: { inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const empty = emptyBlockOutput(inputs.x as tf.TensorInfo);
  if (empty != null) return empty;
  return tf.tidy(() => convfirstBlockReference(inputs as unknown as ConvFirstInputs,
    attrs as unknown as ConvFirstAttrs));
}

export function layerNormReferenceKernel({ inputs, attrs }: { inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  return tf.tidy(() => layerNormReference(inputs as unknown as LayerNormInputs, attrs as unknown as LayerNormAttrs));
}

export function patchConvReferenceKernel({ inputs, attrs }: { inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  // An empty batch: tfjs-backend-webgpu's conv2d throws on N = 0 (a reshape in its im2col path).
  const x = inputs.x as tf.TensorInfo;
  if (tf.util.sizeFromShape(x.shape) === 0) {
    const [n, h, w] = x.shape;
    const [k, , , cout] = (inputs.filter as tf.TensorInfo).shape;
    return tf.zeros([n, ...patchConvOutputSize(h, w, k), cout], 'float32');
  }
  return tf.tidy(() => patchConvReference(inputs as unknown as PatchConvInputs, attrs as unknown as PatchConvAttrs));
}

/** FusedClassifierHead's reference; webgl runs it too (the head is tiny; a fused GLSL head is not worth a pass). */
export function classifierHeadReferenceKernel({ inputs, attrs }: { inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  // An empty batch: tfjs-backend-wasm's Mean throws 'divide by zero' on a size-0 input.
  const x = inputs.x as tf.TensorInfo;
  if (x.shape[0] === 0) return tf.zeros([0, (inputs.weight as tf.TensorInfo).shape[1]], 'float32');
  return tf.tidy(() => classifierHeadReference(inputs as unknown as ClassifierHeadInputs,
    attrs as unknown as ClassifierHeadAttrs));
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
