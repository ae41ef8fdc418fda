/**
 * A GEMM of gemm_wgsl.ts as one tfjs-backend-webgpu program, for each of its users: gemm-mlp's expand and project
 * (block_program.ts) and the patch convs' GEMM path (patch_conv_program.ts). All inputs are vec4 arrays; the row
 * count M is the uniform `rows`, so one pipeline serves every batch size.
 */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { type GemmTile, gemmThreads } from './gemm_wgsl.js';

export class GemmProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  variableComponents: number[];
  outputComponent = 4;
  workgroupSize: [number, number, number];
  uniforms = 'rows : i32,';

  /**
   * `inputs`: the names the operands' loads and epilogue read; `workgroups` of the tile (times the splits);
   * `shaderKey` must name everything `source` bakes in (it is called only when the pipeline is not cached).
   */
  constructor(outputShape: readonly number[], inputs: string[], tile: GemmTile, workgroups: number, shaderKey: string,
    private readonly source: () => string) {
    this.outputShape = [...outputShape];
    this.dispatchLayout = { x: this.outputShape.map((_, i) => i) };
    this.variableNames = inputs;
    this.variableComponents = inputs.map(() => 4);
    this.dispatch = [workgroups, 1, 1];
    this.workgroupSize = [gemmThreads(tile), 1, 1];
    this.shaderKey = shaderKey;
  }

  getUserCode(): string {
    return this.source();
  }
}
