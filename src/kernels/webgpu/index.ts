/** Contributes the fused WebGPU kernels; imported by src/index.ts before registerBlockKernels(). */
import { addFusedKernels } from '../register.js';
import { webgpuKernelConfigs } from './block_kernels.js';
import { webgpuClassifierHeadKernelConfig } from './classifier_head_kernel.js';
import { webgpuLayerNormKernelConfig } from './layer_norm_kernel.js';
import { webgpuPatchConvKernelConfig } from './patch_conv_kernel.js';

addFusedKernels('webgpu', [...webgpuKernelConfigs, webgpuLayerNormKernelConfig, webgpuPatchConvKernelConfig,
  webgpuClassifierHeadKernelConfig]);

export { setFusedPhasesForProfiling, setPoisonFusedOutputs } from './block_kernels.js';
export { layerNormPlan } from './layer_norm_wgsl.js';
export { lastClassifierHeadDecision, planClassifierHead, setClassifierHeadLanes, setClassifierHeadRows } from './classifier_head_wgsl.js';
export type { ClassifierHeadChoice, ClassifierHeadPlan } from './classifier_head_wgsl.js';
export type { LayerNormPlan } from './layer_norm_wgsl.js';
export { choosePatchConvSplits, lastPatchConvDecision, MIN_SPLIT_DEPTH, patchConvStorageBytes, planPatchConv, planPatchConvCached,
  setPatchConvOverride, SPLIT_BELOW_WORKGROUPS, SPLIT_TARGET_WORKGROUPS } from './patch_conv_plan.js';
export type { PatchConvChoice, PatchConvOverride, PatchConvPlan, PatchConvShape, PatchConvTiling } from './patch_conv_plan.js';
export { explainKernel, lastKernelDecision, setWebGPUTilingLimits } from './plan.js';
export type { ExplainShapes, KernelExplanation } from './plan.js';
export { DATACENTER_LIMITS, MIN_SLICE_HIDDEN, SPLIT_BELOW_TILES, SWIFTSHADER_LIMITS, TARGET_WORKGROUPS, chooseTiling,
  setTilingOverride } from './tiling.js';
export type { BlockTiling, TilingLimits, TilingOverride } from './tiling.js';
export { clearWebGPUWeightCache, webgpuWeightCacheStats } from './weight_cache.js';
