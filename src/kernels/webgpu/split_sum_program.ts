/**
 * Dispatch 2 of every split-reduction kernel as one tfjs-backend-webgpu program (the WGSL is split_sum_wgsl.ts,
 * specialized by each caller's epilogue): the block's split-hidden variant and gemm-mlp project split-K, the
 * patch conv's direct-kernel split-K and its GEMM path's split-K. Inputs: `partials` [S, P, V], then whatever the
 * epilogue reads (biases, the residual); output `outputShape`, one thread per output vector.
 */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { SPLIT_SUM_WORKGROUP } from './split_sum_wgsl.js';

export class SplitSumProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  variableComponents: number[];
  outputComponent: number;
  workgroupSize: [number, number, number] = [SPLIT_SUM_WORKGROUP, 1, 1];

  /**
   * `components`: the vector width of the partials, the output and the epilogue's inputs; `shaderKey` must name
   * everything `source` bakes in (it is called only when the pipeline is not cached).
   */
  constructor(outputShape: readonly number[], components: 1 | 4, epilogueInputs: string[], shaderKey: string,
    private readonly source: () => string) {
    this.outputShape = [...outputShape];
    this.dispatchLayout = { x: this.outputShape.map((_, i) => i) };
    this.variableNames = ['partials', ...epilogueInputs];
    this.variableComponents = this.variableNames.map(() => components);
    this.outputComponent = components;
    const vectors = this.outputShape.reduce((a, b) => a * b, 1) / components;
    this.dispatch = [Math.ceil(vectors / SPLIT_SUM_WORKGROUP), 1, 1];
    this.shaderKey = shaderKey;
  }

  getUserCode(): string {
    return this.source();
  }
}
