/** Contributes the fused WebGPU block kernels; imported by src/index.ts before registerBlockKernels(). */
import { addFusedKernels } from '../register.js';
import { webgpuKernelConfigs } from './block_kernels.js';

addFusedKernels('webgpu', webgpuKernelConfigs);

export { setFusedPhasesForProfiling, setPoisonFusedOutputs } from './block_kernels.js';
export { explainKernel, lastKernelDecision, setWebGPUTilingLimits } from './plan.js';
export type { ExplainShapes, KernelExplanation } from './plan.js';
export { DATACENTER_LIMITS, MIN_SLICE_HIDDEN, SPLIT_BELOW_TILES, SWIFTSHADER_LIMITS, TARGET_WORKGROUPS, chooseTiling,
  setTilingOverride } from './tiling.js';
export type { BlockTiling, TilingLimits, TilingOverride } from './tiling.js';
export { clearWebGPUWeightCache, webgpuWeightCacheStats } from './weight_cache.js';
