/**
 * The 1x1 passes of a block: out[p, j] = epilogue(sum_c prologue(A)[p, c] B[c, j]) over packed NHWC
 * tensors (texels of 2 pixels (a W pair) x 2 channels), sampled with texture() at baked reciprocal sizes
 * (see packed_layout.ts). B is stored transposed (W^T [Cout, Cin]), so a B texel is 2 outputs x 2 inputs.
 *
 * A fragment covers `rowHalves` (1 or 2) pixel pairs and `channelPairs` (T) output channel pairs,
 * writing one texel per render target (rowHalves * T targets). Per reduction step it reads rowHalves
 * texels of A and T texels of B for 8 * rowHalves * T multiply-adds: 4 per fetch for a single output
 * (tfjs's MatMulPackedProgram's rate, the most a single-output fragment can reach), 6.4 for 1 x 4,
 * 7.1 for 1 x 8, 8 for 2 x 2, 10.7 for 2 x 4. More than one target needs its own draw path
 * (multi_target_pass.ts), since runWebGLProgram binds one output.
 *
 * Split layout of a multi-target output: with M pixel-pair rows and half = ceil(M / 2), channel pair j
 * of pixel-pair row p is texel (p - h * half, floor(j / T)) of part h * T + j % T, where h = 0 for the
 * first half of the rows and 1 for the second (rowHalves = 2), h = 0 always otherwise. Two halves rather
 * than neighbouring rows, so that a reader picks a part by a branch on its row that is uniform across
 * almost every 2x2 quad of fragments (SwiftShader then runs one side only). A pass reading such a tensor
 * takes its parts as inputs A0 .. (inputParts channel parts, inputHalves halves). tfjs's packed layout
 * is the case of one part. A reader whose own fragment covers both halves (rowHalves = 2) reads half h's
 * parts at its own texel row, with no branch.
 *
 * Block split layout (`outputSplit: 'blocks'`, the project pass): the same part shapes, but part h * T + t
 * holds the contiguous channel pairs [t * Q, (t + 1) * Q), Q = ceil(ceil(Cout / 2) / T), so each part is a
 * rectangle of tfjs's packed texture of the whole tensor (texel rows [h * half, ...), columns [t * Q, ...))
 * and can be copied there with a framebuffer blit (block_passes.ts). The interleaved layout is not
 * rectangular; it is kept for the hidden tensor, whose reader walks all parts per column in turn.
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
   * with K the median of three of the pixel's channels (a shift that keeps the one-pass variance accurate).
   * `weightSumsInShader`: colsum_j is summed in the loop from the B texels the loop reads, not taken from Aux.
   * Needed with half-float textures: B then holds W rounded to 11 bits while Aux's colsum (itself rounded)
   * is of the unrounded W, and their mismatch, times (mean - K) * rstd (large when the first channel is an
   * outlier), swamps the result.
   */
  layerNorm: { epsilon: number; weightSumsInShader?: boolean } | null;
  activation: Activation | null;
  residual: boolean;
  /** Output: channel pairs per fragment (T) and pixel-pair halves per fragment (1: one row, 2: split). */
  channelPairs: number;
  rowHalves: 1 | 2;
  /**
   * How output channel pairs are spread over the T channel parts: 'interleaved' (pair j in part j % T,
   * column j / T; default) or 'blocks' (pair j in part j / Q, column j % Q: rectangles of the whole).
   */
  outputSplit?: 'interleaved' | 'blocks';
  /** Input A in split layout: channel parts and halves (1, 1: one packed A). */
  inputParts: number;
  inputHalves: 1 | 2;
  /** A: the layout of each input part; out: of each output part. */
  layouts: { A: PackedLayout; B: PackedLayout; Aux: PackedLayout; R?: PackedLayout; out: PackedLayout };
}

/** Pixel-pair rows (N * H * ceil(W / 2)) and the first row of the second half. */
function rowSplit([n, h, w]: readonly number[]): { rows: number; half: number } {
  const rows = n * h * Math.ceil(w / 2);
  return { rows, half: Math.ceil(rows / 2) };
}

/**
 * Shape of each part of an NHWC tensor of `channels` channels in split layout (`channelParts` x
 * `halves` parts): one row half of its pixel pairs and every channelParts-th channel pair, as a 2-D
 * packed tensor (rows, columns of texels = [rows / 2, columns / 2]); with one half the NHWC form.
 */
export function splitShape(shape: readonly number[], channels: number, channelParts: number, halves = 1): number[] {
  const cols = splitColumns(channels, channelParts);
  if (halves === 1) return [shape[0], shape[1], shape[2], 2 * cols];
  return [2 * rowSplit(shape).half, 2 * cols];
}

/** Texel columns of each part (Q): channel pairs per channel part. */
export function splitColumns(channels: number, channelParts: number): number {
  return Math.ceil(Math.ceil(channels / 2) / channelParts);
}

/**
 * Where part (h, t) of a tensor in block split layout lies in tfjs's packed texture of the whole tensor:
 * texel rectangle (x = first texel column, y = first texel row, width, height), clipped at the tensor's
 * last channel pair and last pixel-pair row (the part's remaining texels are padding). Parts that would be
 * empty are left out.
 */
export function blockSplitRects(shape: readonly number[], channels: number, channelParts: number, halves: 1 | 2):
  Array<{ part: number; x: number; y: number; width: number; height: number }> {
  const { rows, half } = rowSplit(shape);
  const pairs = Math.ceil(channels / 2);
  const q = splitColumns(channels, channelParts);
  const rects = [];
  for (let h = 0; h < halves; h++) {
    const y = h * half;
    const height = halves === 1 ? rows : h === 0 ? half : rows - half;
    for (let t = 0; t < channelParts; t++) {
      const width = Math.min(q, pairs - t * q);
      if (width > 0 && height > 0) rects.push({ part: h * channelParts + t, x: t * q, y, width, height });
    }
  }
  return rects;
}

function inputNames(o: PointwiseOptions): string[] {
  const count = o.inputParts * o.inputHalves;
  const a = count === 1 ? ['A'] : Array.from({ length: count }, (_, i) => `A${i}`);
  return [...a, 'B', 'Aux', ...(o.residual ? ['R'] : [])];
}

function targetCount(o: PointwiseOptions): number {
  return o.channelPairs * o.rowHalves;
}

/** A single-output pass through tfjs's runWebGLProgram. */
export class PointwiseProgram implements GPGPUProgram {
  variableNames: string[];
  packedInputs = true;
  packedOutput = true;
  outputShape: number[];
  userCode: string;

  constructor(o: PointwiseOptions) {
    if (targetCount(o) !== 1) throw new Error('PointwiseProgram writes one target; use multiTargetPointwise');
    this.outputShape = o.outShape;
    this.variableNames = inputNames(o);
    this.userCode = pointwiseShader(o);
  }
}

/** A pass writing rowHalves * channelPairs textures in one draw (multi_target_pass.ts). */
export function multiTargetPointwise(o: PointwiseOptions): MultiTargetProgram {
  const names = inputNames(o);
  const source = `#version 300 es
    precision highp float;
    precision highp int;
    precision highp sampler2D;
    in vec2 resultUV;
    ${names.map((n) => `uniform sampler2D ${n};`).join('\n    ')}
    ${Array.from({ length: targetCount(o) }, (_, i) => `layout(location = ${i}) out vec4 outTexel${i};`).join('\n    ')}
    ${pointwiseShader(o)}`;
  return { source, inputNames: names };
}

function pointwiseShader(o: PointwiseOptions): string {
  const [, , w, cout] = o.outShape;
  const T = o.channelPairs;
  const H = o.rowHalves;
  const S = o.inputParts;
  const { half } = rowSplit(o.outShape);
  const blocks = o.outputSplit === 'blocks';
  const Q = splitColumns(o.outShape[3], T); // channel pairs per part in block split layout
  const cin = o.inChannels;
  const fullSteps = Math.floor(cin / 2);
  const halfStep = cin % 2 === 1; // last input texel holds one real channel (lanes x, z)
  const coutPairs = Math.ceil(cout / 2);
  const wPairs = Math.ceil(w / 2);
  const ln = o.layerNorm;
  const sumsInShader = ln?.weightSumsInShader === true;
  const names = inputNames(o);
  const targets = Array.from({ length: T }, (_, r) => r);
  const halves = Array.from({ length: H }, (_, h) => h);
  const lit = (v: number) => floatLiteral(v);
  // The pixel-pair row of half h (the fragment's texel row is in the first half).
  const pixelRow = (h: number) => h === 0 ? 'row' : `(row + ${half})`;
  const outPair = (r: number) => T === 1 ? 'col' : blocks ? `(col + ${r * Q})` : `(col * ${T} + ${r})`;
  // B is stored transposed ([Cout, Cin]): each target's walk over the reduction reads one texture row
  // front to back (contiguous memory) instead of striding down a column.
  const walkB = targets.map((r) => texelWalk('B', o.layouts.B, 'col', outPair(r), `uvB${r}`));

  // The one-pass moments' shift K per pixel (vec4 K0 K0 K1 K1 for the texel's two pixels): the median of channels 0,
  // 1 and 2m (pair m = half the full pairs), so that one outlier channel cannot be K; with K far from the mean the
  // shifted sums cancel (channel 0 at 40 above the rest: 2.2e-4 error against stock's 2.2e-6 at C = 384).
  const midPair = Math.floor(fullSteps / 2);
  const shiftOf = (h: number, p: string[], row: string) => `vec4 k0_${h} = fetch${p[0]}(${row}, 0);
      vec2 km_${h} = fetch${p[midPair % S]}(${row}, ${Math.floor(midPair / S)}).xz;
      vec4 shift${h} = max(min(k0_${h}.xz, k0_${h}.yw), min(max(k0_${h}.xz, k0_${h}.yw), km_${h})).xxyy;`;
  // The reduction, reading A's channel parts `parts(h)` at texel row `aRow(h)` for each half h.
  const reduction = (parts: (h: number) => string[], aRow: (h: number) => string): string => {
    // All parts share one layout, hence one texture coordinate walk per row.
    const walkA = halves.map((h) => parts(h).map((p) => texelWalk(p, o.layouts.A, 'col', aRow(h), `uvA${h}`)));
    // One step over input channel pair t (part t % S, column t / S): per half h, 2 pixels x 2 channels
    // of A, times per target r 2 channels x 2 outputs of B (B^T texel: x = (c, j), y = (c+1, j),
    // z = (c, j+1), w = (c+1, j+1)). LayerNorm moments are gathered lane-wise (s1, s2) and combined after
    // the loop. `aCol` / `bCol` are [float, int] expressions of the A column and B column (= t).
    const step = (s: number, aCol: [string, string], bCol: [string, string], last = false) => `{
          ${halves.map((h) => `vec4 a${h} = ${walkA[h][s % S].fetch(...aCol)};
          ${ln == null ? '' : `a${h} -= shift${h}; ${last ? `a${h}.yw = vec2(0.0); ` : ''}s1_${h} += a${h}; s2_${h} += a${h} * a${h};`}`).join('\n          ')}
          ${targets.map((r) => `{ vec4 b = ${walkB[r].fetch(...bCol)};
          ${sumsInShader ? `colsum${r} += ${last ? 'b.xz' : 'b.xz + b.yw'};` : ''}
          ${halves.map((h) => `acc${h}_${r} += ${last ? `a${h}.xxzz * b.xzxz` : `a${h}.xxzz * b.xzxz + a${h}.yyww * b.ywyw`};`).join(' ')} }`).join('\n          ')}
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
    return `
      ${halves.map((h) => walkA[h][0].setup).join('\n      ')}
      ${ln == null ? '' : halves.map((h) => `
      ${shiftOf(h, parts(h), aRow(h))}`).join('')}
      float fi = 0.0;
      for (int i = 0; i < ${bodies}; i++) {
        ${loopSteps.join('\n        ')}
        fi += 1.0;
      }
      ${tail.join('\n      ')}`;
  };
  const partsOf = (g: number) => names.slice(g * S, g * S + S);
  // Input in two halves: a fragment over both halves (H = 2) reads half h's parts at its own row; one
  // over one row reads parts 0.. in the first half of the rows, parts S.. in the second (a branch that is
  // uniform across all 2x2 quads but the one at the boundary).
  const body = o.inputHalves === 1 ? reduction(() => partsOf(0), pixelRow) :
    H === 2 ? reduction(partsOf, () => 'row') : `
      if (row < ${half}) {${reduction(() => partsOf(0), () => 'row')}
      } else {${reduction(() => partsOf(1), () => `(row - ${half})`)}
      }`;

  const acc = (h: number, r: number) => `acc${h}_${r}`;
  const write = (v: (h: number, r: number) => string) => H * T === 1 ? `setOutput(${v(0, 0)});` :
    halves.flatMap((h) => targets.map((r) => `outTexel${h * T + r} = ${v(h, r)};`)).join(' ');
  const epilogue = (r: number) => {
    const j = outPair(r);
    const lines = [`vec4 aux = fetchAux(0, ${j}); // xy: bias; zw: colsum of B (LayerNorm only)`];
    for (const h of halves) {
      const a = acc(h, r);
      const colsum = sumsInShader ? `colsum${r}.xyxy` : 'aux.zwzw';
      lines.push(ln == null ? `${a} += aux.xyxy;` : `${a} = (${a} - mean${h}.xxyy * ${colsum}) * rstd${h}.xxyy + aux.xyxy;`);
      if (o.activation != null) lines.push(`${a} = activation(${a});`);
      if (o.residual) lines.push(`${a} += fetchR(${pixelRow(h)}, ${j});`);
      // Keep padding lanes zero: an odd channel count leaves y / w empty in the last channel pair,
      // pairs past the last (a partly used final column of targets) are written as zero, and an odd
      // width leaves z / w empty in the last pixel pair of each image row.
      const holdsLastPair = T === 1 || (blocks ? Math.floor((coutPairs - 1) / Q) === r : (coutPairs - 1) % T === r);
      if (cout % 2 === 1 && holdsLastPair) lines.push(`if (${j} == ${coutPairs - 1}) ${a}.yw = vec2(0.0);`);
      const pastLast = blocks ? (r + 1) * Q > coutPairs : coutPairs % T !== 0 && r >= coutPairs % T;
      if (T > 1 && pastLast) lines.push(`if (${j} >= ${coutPairs}) ${a} = vec4(0.0);`);
      if (w % 2 === 1) lines.push(`if (lastPair${h}) ${a}.zw = vec2(0.0);`);
    }
    return `{ ${lines.join('\n        ')} }`;
  };
  return `
    ${o.activation == null ? '' : `vec4 activation(vec4 v) { return ${ACTIVATION_GLSL[o.activation]('v')}; }`}
    ${names.slice(0, S * o.inputHalves).map((p) => fetchSnippet(p, o.layouts.A)).join('\n    ')}
    ${fetchSnippet('B', o.layouts.B)}
    ${fetchSnippet('Aux', o.layouts.Aux)}
    ${o.residual ? fetchSnippet('R', o.layouts.R!) : ''}

    void main() {
      ${outputTexelSnippet(o.layouts.out, write(() => 'vec4(0.0)'))}
      ${halves.flatMap((h) => targets.map((r) => `vec4 ${acc(h, r)} = vec4(0.0);`)).join(' ')}
      ${ln == null ? '' : halves.map((h) => `vec4 s1_${h} = vec4(0.0); vec4 s2_${h} = vec4(0.0);`).join(' ')}
      ${sumsInShader ? targets.map((r) => `vec2 colsum${r} = vec2(0.0);`).join(' ') : ''}
      ${walkB.map((b) => b.setup).join('\n      ')}
      ${body}
      ${ln == null ? '' : halves.map((h) => `
      vec2 mean${h} = (s1_${h}.xz + s1_${h}.yw) / ${lit(cin)};
      vec2 variance${h} = max((s2_${h}.xz + s2_${h}.yw) / ${lit(cin)} - mean${h} * mean${h}, 0.0);
      vec2 rstd${h} = inversesqrt(variance${h} + ${lit(ln.epsilon)});`).join('')}
      ${w % 2 === 1 ? halves.map((h) => `bool lastPair${h} = ${pixelRow(h)} - (${pixelRow(h)} / ${wPairs}) * ${wPairs} == ${wPairs - 1};`).join(' ') : ''}
      ${targets.map(epilogue).join('\n      ')}
      ${write(acc)}
    }
  `;
}
