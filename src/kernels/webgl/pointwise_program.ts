/**
 * The 1x1 passes of a block: out[p, j] = epilogue(sum_c prologue(A)[p, c] B[c, j]) over packed NHWC
 * tensors. One texel of output is 2 pixels (a W pair) x 2 output channels; the inner loop reads one
 * texel of A (2 pixels x 2 input channels) and one of B (2 x 2 weights) per step, as tfjs's
 * MatMulPackedProgram does, but with texelFetch on integer coordinates.
 *
 * Options cover both block families' passes:
 *   expand:  layerNorm (LN folded: per-pixel mean / variance gathered while reading the pixel's channels,
 *            gamma / beta pre-folded into B and the bias), bias, activation;
 *   project: bias (layer scale pre-folded into B and the bias), residual add.
 */
import type { GPGPUProgram } from '@tensorflow/tfjs-backend-webgl';
import { ACTIVATION_GLSL, type Activation, floatLiteral } from '../../spec/activations.js';
import { fetchSnippet, outputTexelSnippet, type PackedLayout } from './packed_layout.js';

export interface PointwiseOptions {
  /** Output NHWC shape [N, H, W, Cout]. */
  outShape: [number, number, number, number];
  /** Input channels (the reduction length). */
  inChannels: number;
  /**
   * Fold LayerNorm over the input channels: Aux row 1 holds colsum_c(B) so that
   * sum_c ((a_c - mean) * rstd) B[c, j] = rstd * (sum_c (a_c - K) B[c, j] - (mean - K) * colsum_j),
   * with K the pixel's first channel (a shift that keeps the one-pass variance accurate).
   */
  layerNorm: { epsilon: number } | null;
  activation: Activation | null;
  residual: boolean;
  layouts: { A: PackedLayout; B: PackedLayout; Aux: PackedLayout; R?: PackedLayout; out: PackedLayout };
}

export class PointwiseProgram implements GPGPUProgram {
  variableNames = ['A', 'B', 'Aux'];
  packedInputs = true;
  packedOutput = true;
  outputShape: number[];
  userCode: string;

  constructor(o: PointwiseOptions) {
    this.outputShape = o.outShape;
    if (o.residual) this.variableNames.push('R');
    this.userCode = pointwiseShader(o);
  }
}

function pointwiseShader(o: PointwiseOptions): string {
  const [, , w, cout] = o.outShape;
  const cin = o.inChannels;
  const fullSteps = Math.floor(cin / 2);
  const halfStep = cin % 2 === 1; // last input texel holds one real channel (lanes x, z)
  const wPairs = Math.ceil(w / 2);
  const ln = o.layerNorm;
  const step = (a: string) => ln == null ? '' : `${a} -= shift; sum += ${a}.xz + ${a}.yw; ` +
    `sumSq += ${a}.xz * ${a}.xz + ${a}.yw * ${a}.yw;`;
  const tailStep = (a: string) => ln == null ? '' : `${a} -= shift; ${a}.yw = vec2(0.0); sum += ${a}.xz; ` +
    `sumSq += ${a}.xz * ${a}.xz;`;
  return `
    ${fetchSnippet('A', o.layouts.A)}
    ${fetchSnippet('B', o.layouts.B)}
    ${fetchSnippet('Aux', o.layouts.Aux)}
    ${o.residual ? fetchSnippet('R', o.layouts.R!) : ''}

    void main() {
      ${outputTexelSnippet(o.layouts.out)}
      vec4 acc = vec4(0.0);
      ${ln == null ? '' : `
      // Shift by each pixel's first channel: one-pass moments without catastrophic cancellation.
      vec4 first = fetchA(row, 0);
      vec4 shift = first.xxzz;
      vec2 sum = vec2(0.0);
      vec2 sumSq = vec2(0.0);`}
      for (int t = 0; t < ${fullSteps}; t++) {
        vec4 a = fetchA(row, t);
        vec4 b = fetchB(t, col);
        ${step('a')}
        acc += a.xxzz * b.xyxy + a.yyww * b.zwzw;
      }
      ${halfStep ? `{
        vec4 a = fetchA(row, ${fullSteps});
        vec4 b = fetchB(${fullSteps}, col);
        ${tailStep('a')}
        acc += a.xxzz * b.xyxy;
      }` : ''}
      vec4 aux = fetchAux(0, col); // xy: bias; zw: colsum of B (LayerNorm only)
      ${ln == null ? 'acc += aux.xyxy;' : `
      vec2 mean = sum / ${floatLiteral(cin)};
      vec2 variance = max(sumSq / ${floatLiteral(cin)} - mean * mean, 0.0);
      vec2 rstd = inversesqrt(variance + ${floatLiteral(ln.epsilon)});
      acc = (acc - mean.xxyy * aux.zwzw) * rstd.xxyy + aux.xyxy;`}
      ${o.activation == null ? '' : `acc = ${ACTIVATION_GLSL[o.activation]('acc')};`}
      ${o.residual ? 'acc += fetchR(row, col);' : ''}
      // Keep padding lanes zero: an odd channel count leaves y / w empty in the last column texel and
      // an odd width leaves z / w empty in the last pixel pair of each image row.
      ${cout % 2 === 1 ? `if (col == ${Math.ceil(cout / 2) - 1}) acc.yw = vec2(0.0);` : ''}
      ${w % 2 === 1 ? `if (row - (row / ${wPairs}) * ${wPairs} == ${wPairs - 1}) acc.zw = vec2(0.0);` : ''}
      setOutput(acc);
    }
  `;
}
