/** Contributes the fused WebGPU block kernels; imported by src/index.ts before registerBlockKernels(). */
import { addFusedKernels } from '../register.js';
import { webgpuKernelConfigs } from './block_kernels.js';

addFusedKernels('webgpu', webgpuKernelConfigs);

export { setPoisonFusedOutputs } from './block_kernels.js';
export { explainKernel, lastKernelDecision, setWebGPUTilingLimits } from './plan.js';
export type { ExplainShapes, KernelExplanation } from './plan.js';
export { DATACENTER_LIMITS, SWIFTSHADER_LIMITS, chooseTiling } from './tiling.js';
export type { BlockTiling, TilingLimits } from './tiling.js';
export { clearWebGPUWeightCache, webgpuWeightCacheStats } from './weight_cache.js';
