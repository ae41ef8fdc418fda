/**
 * The GEMM path of FusedPatchConv: the patch conv as the shared register-tiled GEMM (gemm_wgsl.ts) whose A rows
 * are gathered patches, after a FusedLayerNorm dispatch when the layer has a pre-LayerNorm. Why: the direct kernel
 * (patch_conv_wgsl.ts) stages scalar A values and keeps no loads in flight, and ran the ConvNeXt-T downsamples at
 * N=32 at ~20% of the FMA peak (0.26-0.32 ms each on an H100, floor ~0.06) and the stem at 0.13-0.43 ms (floor
 * 0.02); the gemm-mlp GEMM reaches 40-47% on these sizes.
 * The LayerNorm's own dispatch costs one read and write of x (0.01-0.03 ms at N=32), less than the gap; at N=1
 * the split GEMM beats the direct kernel's split-K too (its K slices walk a chain of load / barrier steps). On small
 * split GEMMs the pre-LayerNorm folds past the GEMM instead (`foldedNorm`: row moments in the GEMM, the normalization
 * in the sum), and a post-LayerNorm (the stem's) runs in the epilogue when one tile spans Cout (`postNormFused`).
 *
 * A patch row m = (n, i, j) of the GEMM is x[n, i k + dy, j k + dx, c] for kk = (dy k + dx) Cin + c: for each
 * dy the k Cin values are one contiguous run, so a vec4 of A is one vec4 of x when k Cin and W Cin are multiples
 * of 4 (the stem's 4 x 4 x 3 = 48 too). B is the filter [k k Cin, Cout] as stored; the bias is the layer's own
 * (the normalized x carries gamma and beta), except with the folded norm, which reads the direct kernel's folded
 * weights [W' | b' | colSum'].
 */
import { floatLiteral } from '../../spec/activations.js';
import { fewestSplitsReaching, type TilingLimits } from './tiling.js';
import { type GemmOperands, type GemmTile, gemmMomentsBytes, gemmMomentsFit, gemmRowNormBytes, gemmRowNormFits, gemmSplitFits,
  gemmStorageBytes, gemmSource, gemmTileFitsShape, gemmTileKey,
  gemmWorkgroupCount, rowVec4Tile as tile } from './gemm_wgsl.js';
import type { PatchConvShape } from './patch_conv_plan.js';
import { outputVectorPrologue, splitSumSource } from './split_sum_wgsl.js';
import { patchConvFoldedOffsets } from './patch_conv_wgsl.js';

export interface PatchGemmChoice {
  tile: GemmTile;
  /** Reduction splits (1 = none; > 1: partials [S, M, Cout] and a summing dispatch that adds the bias). */
  kSplits: number;
  /** Workgroups of the GEMM dispatch (with the splits). */
  workgroups: number;
  /** LayerNorm (preNorm, unless folded) + GEMM + (split) sum + LayerNorm (postNorm, unless in the epilogue). */
  dispatches: number;
  /** The post-norm (the stem's LayerNorm) in the GEMM's epilogue: an unsplit GEMM whose tile spans all of Cout. */
  postNormFused: boolean;
  /**
   * The pre-LayerNorm folded past a split GEMM (each split's K range inside one patch position): the GEMM reads raw x
   * against W' (gamma folded in) and writes each split's row moments after the partials; the normalizing sum adds,
   * per position p, rstd_p (partial_p - mean_p colSum'_p) and then b'. One dispatch fewer than LayerNorm + GEMM + sum.
   */
  foldedNorm: boolean;
}

/** Tiles by Cout: 96 divides every ConvNeXt-T width (the gemm-mlp project tile), then narrower fallbacks. */
const TILES: GemmTile[] = [tile(64, 96, 16, 4, 3), tile(64, 64, 16, 4, 2), tile(32, 32, 8, 4, 1)];
/**
 * Large GEMMs (more than SMALL_GEMM_MAX_ROWS rows: the N=32 downsamples) from Cout = 192 take the 32 x 96 tile (64
 * threads) first, as the block's project GEMM does. Measured (H100, BENCHMARKS.md "Patch GEMM tiles"), model
 * per-dispatch profile at N=32, 32 x 96 vs 64 x 96: down1 0.123 vs 0.149 ms, down2 0.118 vs 0.118, down3 unsplit
 * 0.150 (+ its LayerNorm) vs split 0.142 + 0.013 (+ the same LayerNorm); ConvNeXt-T 9.633 vs 9.667 ms. The small N=1
 * GEMMs keep 64 x 96 with their splits (32 x 96 with S = 4 / 8: down2 0.058 vs 0.044, down3 0.058 vs 0.050 in the
 * same run), as does the stem (Cout 96; 0.028 vs 0.016 ms at N=1 in bench:patch-conv).
 */
const LARGE_GEMM_TILES: GemmTile[] = [tile(32, 96, 16, 4, 3), ...TILES];
const LARGE_GEMM_MIN_COUT = 192;
/**
 * Split-K below SPLIT_BELOW tiles: the smallest S >= MIN_SPLITS that launches SPLIT_TARGET workgroups, keeping
 * MIN_SPLIT_DEPTH K values per split. Measured (H100, bench:patch-conv --splitk, 3 interleaved rounds, GPU ms;
 * BENCHMARKS.md "FusedPatchConv", "GEMM path"): N=32 down2 (392 tiles) fastest unsplit (0.155-0.183 vs 0.171-0.238
 * with S = 2-8), down3 (200 tiles) with S = 4-6 (0.166 vs 0.183 unsplit); N=1 down1 (26 tiles) S = 4-8
 * (0.056-0.058 vs 0.081 unsplit), down2 (16) S = 6-8 (0.039-0.041 vs 0.086), down3 (8) S = 12 (0.038 vs 0.124;
 * 16 and 24 slower again).
 */
const SPLIT_BELOW = 264;
const MIN_SPLITS = 4;
const SPLIT_TARGET = 96;
const MIN_SPLIT_DEPTH = 64;
const MAX_SPLITS = 16;
/**
 * Small GEMMs: up to this many rows (N Ho Wo; ConvNeXt-T's N=1 downsamples have 784 / 196 / 49, its N=32 ones 1568 and
 * more). Two rules use it. The folded norm (PatchGemmChoice.foldedNorm) applies only to small GEMMs. Measured (H100,
 * bench:patch-conv --splitk, BENCHMARKS.md "Folded LayerNorms"): at N=1 the folded GEMM + sum beat LayerNorm + GEMM +
 * sum on every downsample (down3 0.031 vs 0.038-0.040 ms), where the LayerNorm dispatch is mostly fixed cost; at N=32
 * down3 (1568 rows) the moments cost the GEMM more than the LayerNorm dispatch (0.189 vs 0.176-0.177 ms). And larger
 * GEMMs take LARGE_GEMM_TILES.
 */
const SMALL_GEMM_MAX_ROWS = 1024;

/**
 * The GEMM path's tile and splits for shape `s`, or null when it does not apply: the vec4 gather needs k Cin and
 * W Cin to be multiples of 4, the tile must divide Cout and K. It runs at every batch where it applies: on the
 * H100 it beat the direct kernel on every ConvNeXt-T downsample at N=1 (0.038-0.056 vs 0.061-0.114 ms, 3 dispatches
 * instead of 2) and N=32, and on the stem at N=32 (tied at N=1). The forced knobs (PatchConvOverride, benchmark A/Bs):
 * `splits` replaces the split rule when it divides K into whole steps, `unrolled` the tile's k loop, `foldNorm` the
 * fold rule, `tile` the tile (when it fits the shape and the limits).
 */
export function choosePatchGemm(s: PatchConvShape, limits: TilingLimits,
  forced: { splits?: number; unrolled?: boolean; foldNorm?: boolean; tile?: GemmTile } = {}): PatchGemmChoice | null {
  const { splits: forcedSplits, unrolled, foldNorm } = forced;
  const depth = s.k * s.k * s.cin;
  if ((s.k * s.cin) % 4 !== 0 || (s.w * s.cin) % 4 !== 0) return null;
  const fits = (c: GemmTile) => gemmTileFitsShape(c, s.cout, depth, limits.maxComputeInvocationsPerWorkgroup,
    limits.maxComputeWorkgroupStorageSize);
  const rows = s.n * Math.floor(s.h / s.k) * Math.floor(s.w / s.k);
  if (rows === 0) return null;
  const large = rows > SMALL_GEMM_MAX_ROWS && s.cout >= LARGE_GEMM_MIN_COUT;
  const found = forced.tile != null && fits(forced.tile) ? forced.tile : (large ? LARGE_GEMM_TILES : TILES).find(fits);
  if (found == null) return null;
  const t = unrolled == null ? found : { ...found, unrolled };
  const tiles = gemmWorkgroupCount(t, rows, s.cout);
  // Folding the pre-norm needs each split inside one patch position: its depth divides Cin. By rule only up to
  // SMALL_GEMM_MAX_ROWS rows (foldNorm true: wherever it fits; false: never).
  const canFold = s.preNorm && (foldNorm ?? rows <= SMALL_GEMM_MAX_ROWS) && gemmMomentsFit(t) &&
    gemmStorageBytes(t) + gemmMomentsBytes(t) <= limits.maxComputeWorkgroupStorageSize;
  const aligned = (sp: number) => canFold && sp > 1 && s.cin % (depth / sp) === 0;
  let kSplits = 1;
  if (forcedSplits != null) {
    kSplits = gemmSplitFits(depth, t, forcedSplits) ? forcedSplits : 1;
  } else if (tiles < SPLIT_BELOW) {
    const allowed = Array.from({ length: MAX_SPLITS - MIN_SPLITS + 1 }, (_, i) => i + MIN_SPLITS)
      .filter((sp) => gemmSplitFits(depth, t, sp) && depth / sp >= MIN_SPLIT_DEPTH);
    const foldable = allowed.filter(aligned);
    kSplits = fewestSplitsReaching(foldable.length > 0 ? foldable : allowed, tiles, SPLIT_TARGET);
  }
  const foldedNorm = aligned(kSplits);
  const postNormFused = s.postNorm === true && gemmRowNormFits(t, s.cout, kSplits) &&
    gemmStorageBytes(t) + gemmRowNormBytes(t) <= limits.maxComputeWorkgroupStorageSize;
  return { tile: t, kSplits, workgroups: tiles * kSplits, foldedNorm, postNormFused,
    dispatches: (s.preNorm && !foldedNorm ? 1 : 0) + 1 + (kSplits > 1 ? 1 : 0) + (s.postNorm && !postNormFused ? 1 : 0) };
}

/**
 * The GEMM operands: A gathered from `x` (normalized when preNorm, raw when the norm is folded), B the filter `w`
 * (W' when folded), plus `bias`; folded, each split's row moments after the S partial slabs (vec4 per split and row).
 */
function patchGemmOperands(s: PatchConvShape, hasBias: boolean, c: PatchGemmChoice, postEpsilon: number): GemmOperands {
  const [ho, wo] = [Math.floor(s.h / s.k), Math.floor(s.w / s.k)];
  const run = s.k * s.cin;
  return {
    rowNorm: c.postNormFused ?
      { gamma: (col) => `postGamma[${col}]`, beta: (col) => `postBeta[${col}]`, epsilon: postEpsilon } : undefined,
    rowMoments: c.foldedNorm ?
      (row, value) => `result[${c.kSplits}u * rows * ${s.cout / 4}u + split * rows + ${row}] = ${value};` : undefined,
    k: s.k * s.k * s.cin,
    n: s.cout,
    // Folded, A is x shifted by its pixel's first channel (LayerNorm does not see the shift): P - mean colSum' then
    // cancels nothing when a pixel's values sit far from 0, and a pixel of equal values gives exactly P = 0, mean = 0.
    aLoad: (m, kq) => c.foldedNorm ? `shiftedPatchVec4(${m}, ${kq})` : `x[patchVec4(${m}, ${kq})]`,
    bLoad: (kr, col) => `w[(${kr}) * ${s.cout / 4}u + ${col}]`,
    epilogue: (v, _row, col) => hasBias ? `${v} + bias[${col}]` : v,
    declarations: `
// The vec4 index in x of patch row m's values 4 kq .. 4 kq + 3 (one patch row dy holds ${run} contiguous values).
fn patchVec4(m: u32, kq: u32) -> u32 {
  let n = m / ${ho * wo}u;
  let rem = m - n * ${ho * wo}u;
  let i = rem / ${wo}u;
  let j = rem - i * ${wo}u;
  let kk = kq * 4u;
  let dy = kk / ${run}u;
  return (((n * ${s.h}u + i * ${s.k}u + dy) * ${s.w}u + j * ${s.k}u) * ${s.cin}u + kk - dy * ${run}u) / 4u;
}${c.foldedNorm ? `

// patch row m's values 4 kq .. 4 kq + 3 minus their pixel's first channel (x is NHWC: the pixel starts at the
// multiple of Cin below them; Cin is a multiple of the split depth, itself a multiple of 4, so the four share it).
fn shiftedPatchVec4(m: u32, kq: u32) -> vec4<f32> {
  let q = patchVec4(m, kq);
  let first = (q * 4u / ${s.cin}u) * ${s.cin}u;
  return x[q] - vec4<f32>(x[first / 4u][first % 4u]);
}` : ''}`,
  };
}

export function patchGemmShaderKey(s: PatchConvShape, hasBias: boolean, c: PatchGemmChoice, postEpsilon: number): string {
  return `patchGemm_k${s.k}_h${s.h}_w${s.w}_ci${s.cin}_co${s.cout}_b${+(hasBias && c.kSplits === 1)}_` +
    gemmTileKey(c.tile, c.kSplits) + (c.foldedNorm ? '_fn' : '') + (c.postNormFused ? `_pn${postEpsilon}` : '');
}

/**
 * WGSL of the GEMM dispatch (inputs x, w, bias when present and unsplit, postGamma and postBeta with the post-norm
 * in the epilogue; `uniforms.rows` = N Ho Wo).
 */
export function patchGemmShaderSource(s: PatchConvShape, hasBias: boolean, c: PatchGemmChoice, postEpsilon: number): string {
  return gemmSource(patchGemmOperands(s, hasBias && c.kSplits === 1, c, postEpsilon), c.tile, c.kSplits);
}

/** The split-K sum (split_sum_wgsl.ts): the S partials [S, M, Cout] in a fixed order, plus the bias when present. */
export function patchGemmSplitSumKey(s: PatchConvShape, splits: number, hasBias: boolean, workgroupSize: number): string {
  return `patchGemmSplitSum_co${s.cout}_s${splits}_b${+hasBias}_wg${workgroupSize}`;
}

export function patchGemmSplitSumSource(s: PatchConvShape, splits: number, hasBias: boolean, workgroupSize: number): string {
  return splitSumSource({ splits, workgroupSize, rowVectors: s.cout / 4,
    epilogue: (sum) => (hasBias ? `${sum} + bias[cv]` : sum) });
}

export function patchGemmNormSumKey(s: PatchConvShape, splits: number, epsilon: number, workgroupSize: number): string {
  return `patchGemmNormSum_k${s.k}_ci${s.cin}_co${s.cout}_s${splits}_e${epsilon}_wg${workgroupSize}`;
}

/**
 * The folded norm's sum (inputs `partials`: the GEMM's S slabs [S, M, Cout] then its moments [S, M] vec4(mean, M2);
 * `w`: the folded [W' | b' | colSum']). One thread per output vec4: for each patch position p, its G = S / k^2
 * splits' moments combine (Chan; equal counts Cin / G) into the LayerNorm's mean and variance of that input pixel,
 * and their partials (summed in a fixed order) into P_p = x_p . W'_p; out = b' + sum_p rstd_p (P_p - mean_p colSum'_p),
 * which is LayerNorm(x_p) . W_p summed over p (gamma inside W', beta inside b').
 */
export function patchGemmNormSumSource(s: PatchConvShape, splits: number, epsilon: number, workgroupSize: number): string {
  const n4 = s.cout / 4;
  const positions = s.k * s.k;
  const perPosition = splits / positions;
  const chunk = s.cin / perPosition;
  const off = patchConvFoldedOffsets(positions * s.cin, s.cin, s.cout);
  return `
fn main(index: i32) {${outputVectorPrologue(workgroupSize, n4)}
  let momentsBase = ${splits} * numPixels * ${n4};
  var out = w[${off.bias / 4} + cv];
  for (var p = 0; p < ${positions}; p++) {
    let s0 = p * ${perPosition};
    var mean = 0.0;
    for (var g = 0; g < ${perPosition}; g++) { mean += partials[momentsBase + (s0 + g) * numPixels + pix].x; }
    mean = mean / ${perPosition}.0;
    var m2 = 0.0;
    for (var g = 0; g < ${perPosition}; g++) {
      let st = partials[momentsBase + (s0 + g) * numPixels + pix];
      let d = st.x - mean;
      m2 += st.y + ${chunk}.0 * d * d;
    }
    let rstd = inverseSqrt(m2 / ${s.cin}.0 + ${floatLiteral(epsilon)});
    var sum = vec4<f32>(0.0);
    for (var g = 0; g < ${perPosition}; g++) { sum += partials[((s0 + g) * numPixels + pix) * ${n4} + cv]; }
    out += rstd * (sum - mean * w[${off.colSum / 4} + p * ${n4} + cv]);
  }
  result[e] = out;
}
`;
}
