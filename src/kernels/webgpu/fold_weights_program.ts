/**
 * Folds and packs a block's MLP weights once per weight set (see weight_cache.ts):
 *   W1'[c][d] = gamma[c] W1[c][d]          b1'[d] = b1[d] + sum_c beta[c] W1[c][d]
 *   W2'[d][c] = W2[d][c] scale[c]          b2'[c] = b2[c] scale[c]
 * into one buffer [W1' | W2' | b1' | b2'] (offsets from block_wgsl.packedOffsets), so the fused program
 * binds 4 inputs instead of 10 and does no per-call folding.
 */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { packedOffsets } from './block_wgsl.js';

export class FoldWeightsProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  variableNames: string[];
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;

  constructor(private readonly c: number, private readonly d: number, private readonly norm: boolean,
    private readonly scale: boolean) {
    this.outputShape = [packedOffsets(c, d).length];
    this.variableNames = ['w1', 'b1', 'w2', 'b2', ...(norm ? ['gamma', 'beta'] : []), ...(scale ? ['scale'] : [])];
    this.dispatch = [Math.ceil(this.outputShape[0] / 64), 1, 1];
    this.shaderKey = `foldBlockWeights_c${c}_d${d}_n${+norm}_s${+scale}`;
  }

  getUserCode(): string {
    const { c, d } = this;
    const cd = c * d;
    const gamma = this.norm ? 'gamma[i / ' + d + ']' : '1.0';
    const scaleW2 = this.scale ? `scale[j % ${c}]` : '1.0';
    const scaleB2 = this.scale ? 'scale[j]' : '1.0';
    const beta = this.norm ? `
        for (var cc = 0; cc < ${c}; cc++) { v += beta[cc] * w1[cc * ${d} + j]; }` : '';
    return `
    fn main(index: i32) {
      if (index >= uniforms.size) { return; }
      let i = index;
      if (i < ${cd}) {
        setOutputAtIndex(i, w1[i] * ${gamma});
      } else if (i < ${2 * cd}) {
        let j = i - ${cd};
        setOutputAtIndex(i, w2[j] * ${scaleW2});
      } else if (i < ${2 * cd + d}) {
        let j = i - ${2 * cd};
        var v = b1[j];${beta}
        setOutputAtIndex(i, v);
      } else {
        let j = i - ${2 * cd + d};
        setOutputAtIndex(i, b2[j] * ${scaleB2});
      }
    }`;
  }
}
