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
import { type GemmStage, type GemmTile, gemmShaderKey, gemmShaderSource, gemmThreads, gemmWorkgroups }
  from './mlp_gemm_wgsl.js';

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
 * the activated hidden [P, D]; project reads it and writes the block output (bias, residual) in x's shape.
 * The row count is a uniform, so one pipeline serves every batch size.
 */
export class MlpGemmProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0, 1] };
  dispatch: [number, number, number];
  variableNames: string[];
  variableComponents: number[];
  outputComponent = 4;
  workgroupSize: [number, number, number];
  uniforms = 'rows : i32,';

  /** kSplits > 1 (project only): the output is the raw partial sums [kSplits, P, C], for SplitSumProgram. */
  constructor(private readonly stage: GemmStage, private readonly spec: BlockSpec, private readonly tile: GemmTile,
    xShape: readonly number[], private readonly kSplits = 1) {
    const rows = xShape[0] * xShape[1] * xShape[2];
    const split = kSplits > 1;
    this.outputShape = stage === 'expand' ? [rows, spec.hidden] : split ? [kSplits, rows, spec.channels] : [...xShape];
    if (stage === 'project') this.dispatchLayout = { x: split ? [0, 1, 2] : [0, 1, 2, 3] };
    this.variableNames = stage === 'project' && spec.residual && !split ? ['a', 'mlp', 'x'] : ['a', 'mlp'];
    this.variableComponents = this.variableNames.map(() => 4);
    this.dispatch = [gemmWorkgroups(stage, spec, tile, rows, kSplits), 1, 1];
    this.workgroupSize = [gemmThreads(tile), 1, 1];
    this.shaderKey = gemmShaderKey(stage, spec, tile, kSplits);
  }

  getUserCode(): string {
    return gemmShaderSource(this.stage, this.spec, this.tile, this.kSplits);
  }
}
