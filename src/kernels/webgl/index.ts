/** Contributes the fused WebGL kernels; imported by src/index.ts before registerBlockKernels(). */
import { addFusedKernels } from '../register.js';
import { webglBlockKernelConfigs } from './fused_block_kernels.js';
import { webglLayerNormKernelConfig } from './layer_norm_kernel.js';

addFusedKernels('webgl', [...webglBlockKernelConfigs, webglLayerNormKernelConfig]);

export { fusedBlocksSupported } from './fused_block_kernels.js';
export { cachedWeightSets } from './weight_cache.js';
