/**
 * FusedConvNeXtBlock and FusedConvFirstBlock for the webgl backend: three packed draw calls per block
 * (block_passes.ts), weights prepared once per weight set (weight_cache.ts). The passes need WebGL 2 (GLSL ES
 * 3.00: integer texel arithmetic, float render targets); on WebGL 1 the kernels run the reference composition.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import { CONVFIRST_INPUTS, CONVNEXT_INPUTS, type ConvFirstAttrs, type ConvNeXtAttrs, convfirstSpec, convnextSpec,
  FUSED_CONVFIRST_BLOCK, FUSED_CONVNEXT_BLOCK, specKey } from '../../spec/block_spec.js';
import { convfirstReferenceKernel, convnextReferenceKernel } from '../reference/reference_kernels.js';
import { type BlockWeights, runBlockPasses } from './block_passes.js';
import { prepareConvFirst, prepareConvNeXt } from './block_weights.js';
import { preparedWeights } from './weight_cache.js';

/** Whether the block passes can run: their shaders are GLSL ES 3.00 (integer texel arithmetic, float targets). */
export function fusedBlocksSupported(version = tf.env().getNumber('WEBGL_VERSION')): boolean {
  return version === 2;
}

type KernelArgs = { inputs: Record<string, tf.TensorInfo>; attrs?: tf.NamedAttrMap; backend: tf.KernelBackend };

/**
 * Where the block runs the reference composition (stock ops) instead of the passes: on WebGL 1, as for any
 * configuration the passes lack, and for an empty x (N, H or W = 0: no texture holds a size-0 tensor; the reference
 * kernel returns the empty output without running anything).
 */
function runsReference(x: tf.TensorInfo): boolean {
  return !fusedBlocksSupported() || tf.util.sizeFromShape(x.shape) === 0;
}

function convnextKernel(args: KernelArgs): tf.TensorInfo {
  const { inputs, attrs, backend } = args;
  if (runsReference(inputs.x)) return convnextReferenceKernel(args as unknown as Parameters<typeof convnextReferenceKernel>[0]);
  const webgl = backend as MathBackendWebGL;
  const a = attrs as unknown as ConvNeXtAttrs;
  const { x, dwFilter, w1 } = inputs;
  const spec = convnextSpec(x.shape, w1.shape, dwFilter.shape, a, inputs.layerScale != null);
  const sources = CONVNEXT_INPUTS.slice(1).filter((n) => inputs[n] != null).map((n) => inputs[n]);
  // The key is the spec without the activation / epsilon: those live in the shaders, not the weights.
  const weights = preparedWeights(webgl, `convnext_k${spec.k}_c${spec.channels}_d${spec.hidden}_ls${+spec.layerScale}`,
    sources, (v) => prepareConvNeXt(spec.k, spec.channels, spec.hidden, v)) as unknown as BlockWeights;
  return runBlockPasses(webgl, spec, x, weights);
}

function convfirstKernel(args: KernelArgs): tf.TensorInfo {
  const { inputs, attrs, backend } = args;
  if (runsReference(inputs.x)) return convfirstReferenceKernel(args as unknown as Parameters<typeof convfirstReferenceKernel>[0]);
  const webgl = backend as MathBackendWebGL;
  const { x, filter, w1 } = inputs;
  const spec = convfirstSpec(x.shape, w1.shape, filter.shape, attrs as unknown as ConvFirstAttrs);
  // The conv pass reads input channels in pairs within a group: odd group widths above 1 (rare) run
  // the reference composition instead.
  if (spec.groupWidth !== 1 && spec.groupWidth % 2 !== 0) return convfirstReferenceKernel(args as unknown as Parameters<typeof convfirstReferenceKernel>[0]);
  const sources = CONVFIRST_INPUTS.slice(1).map((n) => inputs[n]);
  const weights = preparedWeights(webgl, specKey({ ...spec, activation: 'relu', residual: false }), sources,
    (v) => prepareConvFirst(spec.k, spec.groupWidth, spec.channels, spec.hidden, v)) as unknown as BlockWeights;
  return runBlockPasses(webgl, spec, x, weights);
}

export const webglBlockKernelConfigs: tf.KernelConfig[] = [
  { kernelName: FUSED_CONVNEXT_BLOCK, backendName: 'webgl', kernelFunc: convnextKernel as unknown as tf.KernelFunc },
  { kernelName: FUSED_CONVFIRST_BLOCK, backendName: 'webgl', kernelFunc: convfirstKernel as unknown as tf.KernelFunc },
];
