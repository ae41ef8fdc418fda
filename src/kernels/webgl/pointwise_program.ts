/**
 * The 1x1 passes of a block: out[p, j] = epilogue(sum_c prologue(A)[p, c] B[c, j]) over packed NHWC
 * tensors (texels of 2 pixels (a W pair) x 2 channels), sampled with texture() at baked reciprocal sizes
 * (see packed_layout.ts). B is stored transposed (W^T [Cout, Cin]), so a B texel is 2 outputs x 2 inputs.
 *
 * A fragment covers one pixel pair and `targets` output channel pairs, writing one texel per render
 * target. Per reduction step it reads one texel of A and `targets` texels of B for 8 * targets
 * multiply-adds: 4 per fetch with one target (tfjs's MatMulPackedProgram's rate, the most a
 * single-output fragment can reach), 6.4 with 4 targets, 7.1 with 8. More than one target needs its own
 * draw path (multi_target_pass.ts), since runWebGLProgram binds one output.
 *
 * Channel pair j of a multi-target output goes to texel column floor(j / T) of target j % T ("split"
 * layout); a pass reading such a tensor takes its T textures as `inputParts` (A0 .. A{T-1}). tfjs's
 * packed layout is the case T = 1.
 *
 * Options cover both block families' passes:
 *   expand:  layerNorm (LN folded: per-pixel mean / variance gathered while reading the pixel's channels,
 *            gamma / beta pre-folded into B and the bias), bias, activation;
 *   project: bias (layer scale pre-folded into B and the bias), residual add.
 */
import type { GPGPUProgram } from '@tensorflow/tfjs-backend-webgl';
import { ACTIVATION_GLSL, type Activation, floatLiteral } from '../../spec/activations.js';
import type { MultiTargetProgram } from './multi_target_pass.js';
import { fetchSnippet, outputTexelSnippet, type PackedLayout, texelWalk } from './packed_layout.js';

export interface PointwiseOptions {
  /** Output NHWC shape [N, H, W, Cout] (real channels). */
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
  /** Output channel pairs per fragment = render targets (1: tfjs's packed layout, one output). */
  targets: number;
  /** Textures the input's channel pairs are split across (1: one packed A). */
  inputParts: number;
  /** A: the layout of each input part; out: of each target. */
  layouts: { A: PackedLayout; B: PackedLayout; Aux: PackedLayout; R?: PackedLayout; out: PackedLayout };
}

/** Shape of each of the `parts` textures holding an NHWC tensor of `channels` channels in split layout. */
export function splitShape([n, h, w]: readonly number[], channels: number, parts: number): [number, number, number, number] {
  return [n, h, w, 2 * Math.ceil(Math.ceil(channels / 2) / parts)];
}

function inputNames(o: PointwiseOptions): string[] {
  const a = o.inputParts === 1 ? ['A'] : Array.from({ length: o.inputParts }, (_, i) => `A${i}`);
  return [...a, 'B', 'Aux', ...(o.residual ? ['R'] : [])];
}

/** A single-output pass through tfjs's runWebGLProgram. */
export class PointwiseProgram implements GPGPUProgram {
  variableNames: string[];
  packedInputs = true;
  packedOutput = true;
  outputShape: number[];
  userCode: string;

  constructor(o: PointwiseOptions) {
    if (o.targets !== 1) throw new Error('PointwiseProgram writes one target; use multiTargetPointwise');
    this.outputShape = o.outShape;
    this.variableNames = inputNames(o);
    this.userCode = pointwiseShader(o);
  }
}

/** A pass writing `o.targets` textures in one draw (multi_target_pass.ts). */
export function multiTargetPointwise(o: PointwiseOptions): MultiTargetProgram {
  const names = inputNames(o);
  const source = `#version 300 es
    precision highp float;
    precision highp int;
    precision highp sampler2D;
    in vec2 resultUV;
    ${names.map((n) => `uniform sampler2D ${n};`).join('\n    ')}
    ${Array.from({ length: o.targets }, (_, r) => `layout(location = ${r}) out vec4 outTexel${r};`).join('\n    ')}
    ${pointwiseShader(o)}`;
  return { source, inputNames: names };
}

function pointwiseShader(o: PointwiseOptions): string {
  const [, , w, cout] = o.outShape;
  const T = o.targets;
  const S = o.inputParts;
  const cin = o.inChannels;
  const fullSteps = Math.floor(cin / 2);
  const halfStep = cin % 2 === 1; // last input texel holds one real channel (lanes x, z)
  const coutPairs = Math.ceil(cout / 2);
  const wPairs = Math.ceil(w / 2);
  const ln = o.layerNorm;
  const parts = inputNames(o).slice(0, S);
  const targets = Array.from({ length: T }, (_, r) => r);
  // All input parts share one layout, hence one texture coordinate walk.
  const walkA = parts.map((p) => texelWalk(p, o.layouts.A, 'col', 'row', 'uvA'));
  // B is stored transposed ([Cout, Cin]): each target's walk over the reduction reads one texture row
  // front to back (contiguous memory) instead of striding down a column.
  const outPair = (r: number) => T === 1 ? 'col' : `(col * ${T} + ${r})`;
  const walkB = targets.map((r) => texelWalk('B', o.layouts.B, 'col', outPair(r), `uvB${r}`));
  const lit = (v: number) => floatLiteral(v);
  // One reduction step over input channel pair t (part t % S, column t / S): 2 pixels x 2 channels of A
  // times, per target, 2 channels x 2 outputs of B (B^T texel: x = (c, j), y = (c+1, j), z = (c, j+1),
  // w = (c+1, j+1)). LayerNorm moments are gathered lane-wise (s1, s2) and combined after the loop.
  // `aCol` / `bCol` are [float, int] expressions of the A column and B column (= t).
  const step = (s: number, aCol: [string, string], bCol: [string, string], half = false) => `{
          vec4 a = ${walkA[s % S].fetch(...aCol)};
          ${ln == null ? '' : `a -= shift; ${half ? 'a.yw = vec2(0.0); ' : ''}s1 += a; s2 += a * a;`}
          ${targets.map((r) => `{ vec4 b = ${walkB[r].fetch(...bCol)};
          acc${r} += ${half ? 'a.xxzz * b.xzxz' : 'a.xxzz * b.xzxz + a.yyww * b.ywyw'}; }`).join('\n          ')}
        }`;
  // The loop body covers L consecutive steps (all S parts once; unrolled by two when S = 1, fewer
  // loop-counter updates per fetch); steps past the last full body are emitted with constant columns.
  const L = S === 1 ? 2 : S;
  const bodies = Math.floor(fullSteps / L);
  const loopSteps = Array.from({ length: L }, (_, s) => step(s,
    [`(fi * ${lit(L / S)} + ${lit(Math.floor(s / S))})`, `(i * ${L / S} + ${Math.floor(s / S)})`],
    [`(fi * ${lit(L)} + ${lit(s)})`, `(i * ${L} + ${s})`]));
  const tail: string[] = [];
  for (let t = bodies * L; t < fullSteps + (halfStep ? 1 : 0); t++) {
    const c = Math.floor(t / S);
    tail.push(step(t % S, [lit(c), String(c)], [lit(t), String(t)], t === fullSteps));
  }
  const write = (v: (r: number) => string) => T === 1 ? `setOutput(${v(0)});` :
    targets.map((r) => `outTexel${r} = ${v(r)};`).join(' ');
  const epilogue = (r: number) => {
    const j = outPair(r);
    const lines = [`vec4 aux = fetchAux(0, ${j}); // xy: bias; zw: colsum of B (LayerNorm only)`];
    lines.push(ln == null ? `acc${r} += aux.xyxy;` : `acc${r} = (acc${r} - mean.xxyy * aux.zwzw) * rstd.xxyy + aux.xyxy;`);
    if (o.activation != null) lines.push(`acc${r} = activation(acc${r});`);
    if (o.residual) lines.push(`acc${r} += fetchR(row, ${j});`);
    // Keep padding lanes zero: an odd channel count leaves y / w empty in the last channel pair, and
    // pairs past the last (a partly used final column of targets) are written as zero.
    if (cout % 2 === 1 && (T === 1 || (coutPairs - 1) % T === r)) {
      lines.push(`if (${j} == ${coutPairs - 1}) acc${r}.yw = vec2(0.0);`);
    }
    if (T > 1 && coutPairs % T !== 0 && r >= coutPairs % T) {
      lines.push(`if (${j} >= ${coutPairs}) acc${r} = vec4(0.0);`);
    }
    return `{ ${lines.join('\n        ')} }`;
  };
  return `
    ${o.activation == null ? '' : `vec4 activation(vec4 v) { return ${ACTIVATION_GLSL[o.activation]('v')}; }`}
    ${parts.map((p) => fetchSnippet(p, o.layouts.A)).join('\n    ')}
    ${fetchSnippet('B', o.layouts.B)}
    ${fetchSnippet('Aux', o.layouts.Aux)}
    ${o.residual ? fetchSnippet('R', o.layouts.R!) : ''}

    void main() {
      ${outputTexelSnippet(o.layouts.out, write(() => 'vec4(0.0)'))}
      ${targets.map((r) => `vec4 acc${r} = vec4(0.0);`).join(' ')}
      ${walkA[0].setup}
      ${walkB.map((b) => b.setup).join('\n      ')}
      ${ln == null ? '' : `
      // Shift by each pixel's first channel: one-pass moments without catastrophic cancellation.
      vec4 shift = fetch${parts[0]}(row, 0).xxzz;
      vec4 s1 = vec4(0.0);
      vec4 s2 = vec4(0.0);`}
      float fi = 0.0;
      for (int i = 0; i < ${bodies}; i++) {
        ${loopSteps.join('\n        ')}
        fi += 1.0;
      }
      ${tail.join('\n      ')}
      ${ln == null ? '' : `
      vec2 mean = (s1.xz + s1.yw) / ${lit(cin)};
      vec2 variance = max((s2.xz + s2.yw) / ${lit(cin)} - mean * mean, 0.0);
      vec2 rstd = inversesqrt(variance + ${lit(ln.epsilon)});`}
      ${targets.map(epilogue).join('\n      ')}
      // An odd width leaves z / w empty in the last pixel pair of each image row.
      ${w % 2 === 1 ? `if (row - (row / ${wPairs}) * ${wPairs} == ${wPairs - 1}) { ${
        write((r) => `vec4(acc${r}.xy, 0.0, 0.0)`)} return; }` : ''}
      ${write((r) => `acc${r}`)}
    }
  `;
}
