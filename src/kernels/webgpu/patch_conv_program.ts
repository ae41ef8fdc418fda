/**
 * FusedPatchConv as tfjs-backend-webgpu programs. PatchConvProgram: inputs x, w (the filter, or with
 * preNorm the folded [W' | b']) and bias (without preNorm, when present); one workgroup per output tile, or
 * with split-K (plan.kSplits S > 1) S per tile writing partials [S N, Ho, Wo, Cout] (no bias input), which
 * patchConvSplitSumProgram (inputs partials, then w with preNorm or bias) sums with the bias.
 * PatchConvFoldProgram (inputs convWeights, as 'filter' is a WGSL reserved word, bias?, gamma, beta): the once-per-weight-set fold of the pre-LayerNorm into the weights (weight_cache.ts).
 */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import type { PatchConvPlan } from './patch_conv_plan.js';
import { type PatchGemmChoice, patchGemmNormSumKey, patchGemmNormSumSource, patchGemmShaderKey, patchGemmShaderSource, patchGemmSplitSumKey,
  patchGemmSplitSumSource } from './patch_conv_gemm.js';
import { GemmProgram } from './gemm_program.js';
import { patchConvFoldedOffsets, patchConvFoldSource, patchConvShaderKey, patchConvShaderSource, patchConvSplitSumKey,
  patchConvSplitSumSource } from './patch_conv_wgsl.js';
import { SPLIT_SUM_WORKGROUP } from './split_sum_wgsl.js';
import { SplitSumProgram } from './split_sum_program.js';


export class PatchConvProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0, 1, 2, 3] };
  dispatch: [number, number, number];
  variableNames: string[];
  variableComponents: number[];
  outputComponent: number;
  workgroupSize: [number, number, number];
  // uniforms.size (in output vectors) gives the GEMM's row count without baking the batch into the shader.
  size = true;

  constructor(private readonly plan: PatchConvPlan, private readonly epsilon: number,
    private readonly hasBias: boolean) {
    const split = plan.kSplits > 1;
    // Split-K: the S partial slabs stacked along the batch, so uniforms.size / S is still rows x vectors.
    this.outputShape = [plan.kSplits * plan.n, plan.ho, plan.wo, plan.cout];
    const biasInput = hasBias && !plan.preNorm && !split;
    this.variableNames = ['x', 'w', ...(biasInput ? ['bias'] : [])];
    this.variableComponents = [plan.xComponents, plan.components, ...(biasInput ? [plan.components] : [])];
    this.outputComponent = plan.components;
    this.workgroupSize = [plan.tiling.workgroupSize, 1, 1];
    this.dispatch = [plan.workgroups, 1, 1];
    this.shaderKey = patchConvShaderKey(plan, epsilon, hasBias);
  }

  getUserCode(): string {
    return patchConvShaderSource(this.plan, this.epsilon, this.hasBias);
  }
}

/** Dispatch 2 of the direct kernel's split-K: partials [S N, Ho, Wo, Cout] + the bias (b' in w with preNorm). */
export function patchConvSplitSumProgram(plan: PatchConvPlan, hasBias: boolean): SplitSumProgram {
  return new SplitSumProgram([plan.n, plan.ho, plan.wo, plan.cout], plan.components,
    plan.preNorm ? ['w'] : hasBias ? ['bias'] : [], patchConvSplitSumKey(plan, hasBias, SPLIT_SUM_WORKGROUP),
    () => patchConvSplitSumSource(plan, hasBias, SPLIT_SUM_WORKGROUP));
}

export class PatchConvFoldProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  variableNames: string[];
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;

  constructor(private readonly depth: number, private readonly cin: number, private readonly cout: number,
    private readonly hasBias: boolean) {
    this.outputShape = [patchConvFoldedOffsets(depth, cin, cout).length];
    this.variableNames = ['convWeights', ...(hasBias ? ['bias'] : []), 'gamma', 'beta'];
    this.dispatch = [Math.ceil(this.outputShape[0] / 64), 1, 1];
    this.shaderKey = `foldPatchConv_d${depth}_ci${cin}_co${cout}_b${+hasBias}`;
  }

  getUserCode(): string {
    return patchConvFoldSource(this.depth, this.cin, this.cout, this.hasBias);
  }
}

/**
 * The GEMM path's GEMM (patch_conv_gemm.ts): inputs x (normalized with preNorm, raw with the norm folded), w (the
 * filter, or the folded weights) and bias when present and unsplit; output [N, Ho, Wo, Cout], or with split-K the
 * partials [S, M, Cout] (folded norm: then the moments [S, M] as one vec4 each, sized as [S, M, Cout + 4]).
 */
export function patchGemmProgram(plan: PatchConvPlan, gemm: PatchGemmChoice, hasBias: boolean,
  postEpsilon: number): GemmProgram {
  const split = gemm.kSplits > 1;
  return new GemmProgram(split ? [gemm.kSplits, plan.m, plan.cout + (gemm.foldedNorm ? 4 : 0)] :
    [plan.n, plan.ho, plan.wo, plan.cout],
    ['x', 'w', ...(hasBias && !split ? ['bias'] : []), ...(gemm.postNormFused ? ['postGamma', 'postBeta'] : [])],
    gemm.tile, gemm.workgroups, patchGemmShaderKey(plan, hasBias, gemm, postEpsilon),
    () => patchGemmShaderSource(plan, hasBias, gemm, postEpsilon));
}

/** The GEMM path's split-K sum: partials [S, M, Cout] + the bias when present; output [N, Ho, Wo, Cout]. */
export function patchGemmSplitSumProgram(plan: PatchConvPlan, splits: number, hasBias: boolean): SplitSumProgram {
  return new SplitSumProgram([plan.n, plan.ho, plan.wo, plan.cout], 4, hasBias ? ['bias'] : [],
    patchGemmSplitSumKey(plan, splits, hasBias, SPLIT_SUM_WORKGROUP),
    () => patchGemmSplitSumSource(plan, splits, hasBias, SPLIT_SUM_WORKGROUP));
}

/** The folded norm's sum (patch_conv_gemm.ts patchGemmNormSumSource): inputs partials + moments, the folded w. */
export function patchGemmNormSumProgram(plan: PatchConvPlan, splits: number, epsilon: number): SplitSumProgram {
  return new SplitSumProgram([plan.n, plan.ho, plan.wo, plan.cout], 4, ['w'],
    patchGemmNormSumKey(plan, splits, epsilon, SPLIT_SUM_WORKGROUP),
    () => patchGemmNormSumSource(plan, splits, epsilon, SPLIT_SUM_WORKGROUP));
}
