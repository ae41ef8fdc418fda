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
import { fetchSnippet, outputTexelSnippet, type PackedLayout, texelWalk } from './packed_layout.js';

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
  const walkA = texelWalk('A', o.layouts.A, 'col', 'row');
  // B is stored transposed ([Cout, Cin]): each fragment's walk over the reduction then reads one
  // texture row front to back (contiguous memory) instead of striding down a column.
  const walkB = texelWalk('B', o.layouts.B, 'col', 'col');
  // One reduction step over input texel t: 2 pixels x 2 channels of A times 2 channels x 2 outputs of
  // B (B^T texel: x = (c, j), y = (c+1, j), z = (c, j+1), w = (c+1, j+1)).
  // LayerNorm moments are gathered lane-wise (s1, s2) and combined per pixel after the loop.
  const step = (f: string, i: string) => `{
          vec4 a = ${walkA.fetch(f, i)};
          vec4 b = ${walkB.fetch(f, i)};
          ${ln == null ? '' : 'a -= shift; s1 += a; s2 += a * a;'}
          acc += a.xxzz * b.xzxz + a.yyww * b.ywyw;
        }`;
  const pairs = Math.floor(fullSteps / 2);
  return `
    ${o.activation == null ? '' : `vec4 activation(vec4 v) { return ${ACTIVATION_GLSL[o.activation]('v')}; }`}
    ${fetchSnippet('A', o.layouts.A)}
    ${fetchSnippet('B', o.layouts.B)}
    ${fetchSnippet('Aux', o.layouts.Aux)}
    ${o.residual ? fetchSnippet('R', o.layouts.R!) : ''}

    void main() {
      ${outputTexelSnippet(o.layouts.out)}
      vec4 acc = vec4(0.0);
      ${walkA.setup}
      ${walkB.setup}
      ${ln == null ? '' : `
      // Shift by each pixel's first channel: one-pass moments without catastrophic cancellation.
      vec4 shift = fetchA(row, 0).xxzz;
      vec4 s1 = vec4(0.0);
      vec4 s2 = vec4(0.0);`}
      // Unrolled by two: fewer loop-counter updates per fetch.
      float ft = 0.0;
      for (int t = 0; t < ${2 * pairs}; t += 2) {
        ${step('ft', 't')}
        ${step('(ft + 1.0)', '(t + 1)')}
        ft += 2.0;
      }
      ${fullSteps % 2 === 1 ? step(floatLiteral(fullSteps - 1), String(fullSteps - 1)) : ''}
      ${halfStep ? `{
        vec4 a = fetchA(row, ${fullSteps});
        vec4 b = fetchB(col, ${fullSteps});
        ${ln == null ? '' : 'a -= shift; a.yw = vec2(0.0); s1 += a; s2 += a * a;'}
        acc += a.xxzz * b.xzxz;
      }` : ''}
      vec4 aux = fetchAux(0, col); // xy: bias; zw: colsum of B (LayerNorm only)
      ${ln == null ? 'acc += aux.xyxy;' : `
      vec2 mean = (s1.xz + s1.yw) / ${floatLiteral(cin)};
      vec2 variance = max((s2.xz + s2.yw) / ${floatLiteral(cin)} - mean * mean, 0.0);
      vec2 rstd = inversesqrt(variance + ${floatLiteral(ln.epsilon)});
      acc = (acc - mean.xxyy * aux.zwzw) * rstd.xxyy + aux.xyxy;`}
      ${o.activation == null ? '' : 'acc = activation(acc);'}
      ${o.residual ? 'acc += fetchR(row, col);' : ''}
      // Keep padding lanes zero: an odd channel count leaves y / w empty in the last column texel and
      // an odd width leaves z / w empty in the last pixel pair of each image row.
      ${cout % 2 === 1 ? `if (col == ${Math.ceil(cout / 2) - 1}) acc.yw = vec2(0.0);` : ''}
      ${w % 2 === 1 ? `if (row - (row / ${wPairs}) * ${wPairs} == ${wPairs - 1}) acc.zw = vec2(0.0);` : ''}
      setOutput(acc);
    }
  `;
}
