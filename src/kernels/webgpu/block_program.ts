/**
 * The fused block programs in tfjs-backend-webgpu style. FusedBlockProgram: inputs x, convFilter, convBias
 * and the packed MLP weights, one workgroup per tile of output pixels (per hidden slice in the split-hidden
 * variant, whose output is the partial projections [S, P, C]). blockSplitSumProgram: dispatch 2 of that variant.
 */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import type { BlockSpec } from '../../spec/block_spec.js';
import { type BlockPhases, blockShaderKey, blockShaderSource, splitSumShaderKey, splitSumShaderSource }
  from './block_wgsl.js';
import { SPLIT_SUM_WORKGROUP } from './split_sum_wgsl.js';
import { SplitSumProgram } from './split_sum_program.js';
import type { BlockTiling } from './tiling.js';
import { type GemmStage, type GemmTile, gemmShaderKey, gemmShaderSource, gemmWorkgroups } from './mlp_gemm_wgsl.js';
import { GemmProgram } from './gemm_program.js';

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
    const pixels = xShape[0] * xShape[1] * xShape[2];
    const splits = tiling.hiddenSplits;
    // Split-hidden: the output is the partial projections, one [P, C] slab per hidden slice.
    this.outputShape = splits > 1 ? [splits, pixels, spec.channels] : [...xShape];
    this.dispatch = [Math.ceil(pixels / tiling.tilePixels) * splits, 1, 1];
    this.workgroupSize = [tiling.workgroupSize, 1, 1];
    this.shaderKey = blockShaderKey({ spec, tiling, phases });
  }

  getUserCode(): string {
    return blockShaderSource({ spec: this.spec, tiling: this.tiling, phases: this.phases });
  }
}

/** Dispatch 2 of the split-hidden variant and of gemm-mlp's split project: partials [S, P, C] + b2' (+ x). */
export function blockSplitSumProgram(spec: BlockSpec, splits: number, xShape: readonly number[]): SplitSumProgram {
  return new SplitSumProgram(xShape, 4, spec.residual ? ['mlp', 'x'] : ['mlp'],
    splitSumShaderKey(spec, splits, SPLIT_SUM_WORKGROUP), () => splitSumShaderSource(spec, splits, SPLIT_SUM_WORKGROUP));
}

/**
 * One GEMM of the 'gemm-mlp' variant (mlp_gemm_wgsl.ts): expand reads the conv + norm output [P, C] and writes
 * the activated hidden [P, D]; project reads it and writes the block output (bias, residual) in x's shape, or with
 * kSplits > 1 the raw partial sums [kSplits, P, C] for blockSplitSumProgram.
 */
export function mlpGemmProgram(stage: GemmStage, spec: BlockSpec, tile: GemmTile, xShape: readonly number[],
  kSplits = 1): GemmProgram {
  const rows = xShape[0] * xShape[1] * xShape[2];
  const split = kSplits > 1;
  const outputShape = stage === 'expand' ? [rows, spec.hidden] : split ? [kSplits, rows, spec.channels] : xShape;
  const inputs = stage === 'project' && spec.residual && !split ? ['a', 'mlp', 'x'] : ['a', 'mlp'];
  return new GemmProgram(outputShape, inputs, tile, gemmWorkgroups(stage, spec, tile, rows, kSplits),
    gemmShaderKey(stage, spec, tile, kSplits), () => gemmShaderSource(stage, spec, tile, kSplits));
}
