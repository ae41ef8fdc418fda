/** Contributes the fused WebGL block kernels; imported by src/index.ts before registerBlockKernels(). */
import { addFusedKernels } from '../register.js';
import { webglBlockKernelConfigs } from './fused_block_kernels.js';

addFusedKernels('webgl', webglBlockKernelConfigs);

export { requireWebGL2 } from './fused_block_kernels.js';
export { cachedWeightSets } from './weight_cache.js';
