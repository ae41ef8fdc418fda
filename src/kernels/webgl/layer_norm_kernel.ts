/**
 * FusedLayerNorm for the webgl backend: two draws (row statistics, then the normalization); x of rank above
 * 4 or with no rows runs the reference composition.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import { FUSED_LAYER_NORM } from '../../spec/block_spec.js';
import type { LayerNormAttrs } from '../../spec/layer_norm.js';
import { layerNormReferenceKernel } from '../reference/reference_kernels.js';
import { LayerNormApplyProgram, LayerNormStatsProgram, WEBGL_LAYER_NORM_MAX_RANK } from './layer_norm_programs.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: tf.KernelBackend };

function layerNormWebGLKernel(args: KernelArgs): tf.TensorInfo {
  const { x, gamma, beta } = args.inputs as Record<string, tf.TensorInfo>;
  const { epsilon } = args.attrs as unknown as LayerNormAttrs;
  if (x.shape.length > WEBGL_LAYER_NORM_MAX_RANK || tf.util.sizeFromShape(x.shape) === 0) {
    return layerNormReferenceKernel(args);
  }
  const backend = args.backend as MathBackendWebGL;
  const stats = backend.runWebGLProgram(new LayerNormStatsProgram(x.shape, epsilon), [x], 'float32');
  try {
    return backend.runWebGLProgram(new LayerNormApplyProgram(x.shape), [x, stats, gamma, beta], 'float32');
  } finally {
    backend.disposeIntermediateTensorInfo(stats);
  }
}

export const webglLayerNormKernelConfig: tf.KernelConfig = {
  kernelName: FUSED_LAYER_NORM, backendName: 'webgl', kernelFunc: layerNormWebGLKernel as unknown as tf.KernelFunc,
};
