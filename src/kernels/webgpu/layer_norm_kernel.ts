/**
 * FusedLayerNorm on webgpu: one dispatch of LayerNormProgram. Shapes the program cannot take (x of rank > 6,
 * tfjs-backend-webgpu's limit, or no rows) run the reference composition.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { FUSED_LAYER_NORM } from '../../spec/block_spec.js';
import type { LayerNormAttrs } from '../../spec/layer_norm.js';
import { layerNormReferenceKernel } from '../reference/reference_kernels.js';
import { poisonedOutput } from './block_kernels.js';
import { LayerNormProgram } from './layer_norm_program.js';
import { layerNormPlan } from './layer_norm_wgsl.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

export function layerNormWebGPUKernel(args: KernelArgs): tf.TensorInfo {
  const { x, gamma, beta } = args.inputs as Record<string, tf.TensorInfo>;
  const { epsilon } = args.attrs as unknown as LayerNormAttrs;
  if (x.shape.length > 6 || tf.util.sizeFromShape(x.shape) === 0) return layerNormReferenceKernel(args);
  const backend = args.backend as WebGPUBackend;
  const program = new LayerNormProgram(layerNormPlan(x.shape[x.shape.length - 1]), epsilon, x.shape);
  return backend.runWebGPUProgram(program, [x, gamma, beta], 'float32', undefined,
    poisonedOutput(backend, program.outputShape));
}

export const webgpuLayerNormKernelConfig: tf.KernelConfig = {
  kernelName: FUSED_LAYER_NORM, backendName: 'webgpu', kernelFunc: layerNormWebGPUKernel as tf.KernelFunc,
};
