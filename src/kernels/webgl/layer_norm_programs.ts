/**
 * FusedLayerNorm on webgl as two unpacked draws, tfjs GPGPUProgram style:
 *   LayerNormStatsProgram:  [...rows, C] -> [...rows, 2]: lane 0 the mean, lane 1 rsqrt(var + epsilon), each
 *                           fragment walking its row (two-pass moments, as GraphBuilder.layerNorm);
 *   LayerNormApplyProgram:  (x - mean) * rstd * gamma + beta per element.
 * Unpacked, so a packed x gets tfjs's unpack pass first. x of rank 1 to 4.
 */
import type { GPGPUProgram } from '@tensorflow/tfjs-backend-webgl';
import { floatLiteral } from '../../spec/activations.js';

/** Highest rank the programs take (tfjs's ivec4 output coordinates). */
export const WEBGL_LAYER_NORM_MAX_RANK = 4;

const COORD_TYPES = ['int', 'ivec2', 'ivec3', 'ivec4'];
const LANES = ['x', 'y', 'z', 'w'];

/** The leading (row) coordinates of `coords` for an output of rank `rank`, as getter arguments. */
function rowArgs(rank: number): string[] {
  return rank === 1 ? [] : LANES.slice(0, rank - 1).map((l) => `coords.${l}`);
}

/** The last coordinate of `coords`. */
function lastCoord(rank: number): string {
  return rank === 1 ? 'coords' : `coords.${LANES[rank - 1]}`;
}

export class LayerNormStatsProgram implements GPGPUProgram {
  variableNames = ['x'];
  outputShape: number[];
  userCode: string;

  constructor(xShape: readonly number[], epsilon: number) {
    const rank = xShape.length;
    const c = xShape[rank - 1];
    this.outputShape = [...xShape.slice(0, -1), 2];
    const at = (ch: string) => `getX(${[...rowArgs(rank), ch].join(', ')})`;
    this.userCode = `
      void main() {
        ${COORD_TYPES[rank - 1]} coords = getOutputCoords();
        // Moments of the row shifted by its first value: equal values give exactly mean = that value (x - mean = 0,
        // y = beta), which a sum divided by C (rounded, and by a reciprocal on GPUs) does not.
        float shift = ${at('0')};
        float sum = 0.0;
        for (int c = 0; c < ${c}; c++) { sum += ${at('c')} - shift; }
        float mean = shift + sum / ${floatLiteral(c)};
        float stat = mean;
        if (${lastCoord(rank)} == 1) {
          float sq = 0.0;
          for (int c = 0; c < ${c}; c++) { float d = ${at('c')} - mean; sq += d * d; }
          stat = inversesqrt(sq / ${floatLiteral(c)} + ${floatLiteral(epsilon)});
        }
        setOutput(stat);
      }
    `;
  }
}

export class LayerNormApplyProgram implements GPGPUProgram {
  variableNames = ['x', 'stats', 'gamma', 'beta'];
  outputShape: number[];
  userCode: string;

  constructor(xShape: readonly number[]) {
    const rank = xShape.length;
    this.outputShape = [...xShape];
    const stat = (lane: number) => `getStats(${[...rowArgs(rank), String(lane)].join(', ')})`;
    const c = lastCoord(rank);
    this.userCode = `
      void main() {
        ${COORD_TYPES[rank - 1]} coords = getOutputCoords();
        setOutput((getXAtOutCoords() - ${stat(0)}) * ${stat(1)} * getGamma(${c}) + getBeta(${c}));
      }
    `;
  }
}
