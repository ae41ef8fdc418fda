/**
 * tfjs-block-fusion: fused residual-block ops for TensorFlow.js. Importing this module registers the
 * block, LayerNorm, patch conv and classifier head kernels on every backend (fused on webgpu / webgl, a reference composition elsewhere).
 */
import { registerBlockKernels } from './kernels/register.js';
import { registerFusedGraphOps } from './converter/register_ops.js';
// Backend modules add their fused kernels before registerBlockKernels() runs below.
import './kernels/webgpu/index.js';
import './kernels/webgl/index.js';

export { convnextBlock } from '../ops/convnext_block.js';
export type { ConvNeXtBlockOptions, ConvNeXtBlockWeights } from '../ops/convnext_block.js';
export { convfirstBlock } from '../ops/convfirst_block.js';
export type { ConvFirstBlockOptions, ConvFirstBlockWeights } from '../ops/convfirst_block.js';
export { layerNorm } from '../ops/layer_norm.js';
export type { LayerNormOptions } from '../ops/layer_norm.js';
export { layerNormReference } from './kernels/reference/layer_norm_reference.js';
export { patchConv } from '../ops/patch_conv.js';
export type { PatchConvOptions } from '../ops/patch_conv.js';
export { patchConvReference } from './kernels/reference/patch_conv_reference.js';
export { FUSED_PATCH_CONV } from './spec/patch_conv.js';
export { classifierHead } from '../ops/classifier_head.js';
export type { ClassifierHeadOptions } from '../ops/classifier_head.js';
export { classifierHeadReference } from './kernels/reference/classifier_head_reference.js';
export { FUSED_CLASSIFIER_HEAD } from './spec/classifier_head.js';
export type { TensorInput } from '../ops/validate.js';
export { ACTIVATIONS } from './spec/activations.js';
export type { Activation } from './spec/activations.js';
export { FUSED_CONVFIRST_BLOCK, FUSED_CONVNEXT_BLOCK, FUSED_LAYER_NORM } from './spec/block_spec.js';
export type { BlockSpec, ConvFirstAttrs, ConvNeXtAttrs } from './spec/block_spec.js';
export type { ConvFirstInputs, ConvNeXtInputs } from './kernels/reference/block_reference.js';
export { convfirstBlockReference, convnextBlockReference, groupedConv2d } from './kernels/reference/block_reference.js';
export { clearWebGPUWeightCache, DATACENTER_LIMITS, explainKernel, lastClassifierHeadDecision, lastKernelDecision,
  lastPatchConvDecision, setWebGPUTilingLimits, SWIFTSHADER_LIMITS, webgpuWeightCacheStats } from './kernels/webgpu/index.js';
export type { ClassifierHeadChoice, KernelExplanation, PatchConvChoice, TilingLimits } from './kernels/webgpu/index.js';
export { WebGPUInputUploader } from './runtime/webgpu_input_uploader.js';

registerBlockKernels();
registerFusedGraphOps();
