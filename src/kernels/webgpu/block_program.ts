/**
 * The fused block program in tfjs-backend-webgpu style: one output (NHWC, vec4 channels), inputs
 * x, convFilter, convBias and the packed MLP weights, one workgroup per tile of output pixels.
 */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import type { BlockSpec } from '../../spec/block_spec.js';
import { type BlockPhases, blockShaderKey, blockShaderSource } from './block_wgsl.js';
import type { BlockTiling } from './tiling.js';

export class FusedBlockProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0, 1, 2, 3] };
  dispatch: [number, number, number];
  variableNames = ['x', 'convFilter', 'convBias', 'mlp'];
  variableComponents = [4, 4, 4, 4];
  outputComponent = 4;
  workgroupSize: [number, number, number];

  constructor(private readonly spec: BlockSpec, private readonly tiling: BlockTiling, xShape: readonly number[],
    private readonly phases: BlockPhases = 'all') {
    this.outputShape = [...xShape];
    const pixels = xShape[0] * xShape[1] * xShape[2];
    this.dispatch = [Math.ceil(pixels / tiling.tilePixels), 1, 1];
    this.workgroupSize = [tiling.workgroupSize, 1, 1];
    this.shaderKey = blockShaderKey({ spec, tiling, phases });
  }

  getUserCode(): string {
    return blockShaderSource({ spec: this.spec, tiling: this.tiling, phases: this.phases });
  }
}
