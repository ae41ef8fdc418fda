/**
 * The block MLP as two GEMMs through device memory ('gemm-mlp' variant, dispatches 2 and 3 after the conv +
 * norm dispatch): expand  H = act(A W1' + b1')  and  project  y = H W2' + b2' (+ x). W1', W2', b1', b2' are read
 * from the block's packed weights (packedOffsets), so both variants share one weight fold. The GEMM itself is
 * gemm_wgsl.ts; this file gives it the block's operands and picks the tiles.
 *
 * Why: in the one-dispatch kernel a workgroup must keep its tile's [pixels x C] projection accumulators for the
 * whole walk over D, which caps wide blocks (C >= 192) at 4-16 pixel tiles, each re-reading W1' and W2' through
 * L2. At large batch the hidden tensor's round trip through device memory is cheap next to the matmuls
 * (77 MB at 14x14x384, N=32: ~20 us at 4 TB/s), and a plain register-tiled GEMM ran these shapes at 35-54% of
 * the FMA peak on an H200 against the fused kernel's 30%
 * (bench/gemm_probe.ts, BENCHMARKS.md "gemm-mlp variant"). With the rowVec4 tiles it also beats the
 * one-dispatch kernel on the narrow 56x56x96 block at N=32 (whose 64-pixel tiles stage the weights), where the
 * hidden round trip is 154 MB.
 */
import { wgslActivationFunction } from '../../spec/activations.js';
import type { BlockSpec } from '../../spec/block_spec.js';
import { packedOffsets } from './block_wgsl.js';
import { type GemmOperands, type GemmTile, gemmSource, gemmSplitFits, gemmTileFitsShape, gemmTileKey,
  gemmWorkgroupCount, rowVec4Tile as tile } from './gemm_wgsl.js';

export type { GemmTile } from './gemm_wgsl.js';
export { gemmThreads } from './gemm_wgsl.js';

export type GemmStage = 'expand' | 'project';

/** Fallbacks for shapes the measured tiles do not divide. */
const FALLBACK: GemmTile[] = [tile(64, 64, 16, 4, 2), tile(64, 128, 8, 8, 2), tile(32, 32, 8, 4, 1)];

/**
 * Tile per stage, from in-kernel sweeps (bench --sweep, BENCHMARKS.md "gemm-mlp variant"). On an H200 both GEMMs
 * ran fastest with 64 x 64 tiles, bk 16, 4 x 8 outputs per thread, 128 threads (expand 64 x 64 beat the probe's
 * best 64 x 128 by 3-6% once the activation epilogue was in). On an H100 (same-run sweeps, both families):
 * rowVec4 took the wide blocks 10-14% lower; a 64 x 128 expand tile with the same 4 x 8 per thread (256 threads)
 * about 1% lower again on all six wide shapes; for the project GEMM (N = C, and 96 divides every ConvNeXt-T
 * width) 64 x 96 with 4 x 12 per thread at C = 96 (it is what makes the 56x56x96 block faster as gemm-mlp:
 * 0.61 vs 0.74 ms, the 32 x 96 tile 0.77), 32 x 96 (64 threads) from C = 192 (28x28x192 0.56 vs 0.58-0.62 ms
 * with 64 x 96; equal at 14x14 and 7x7).
 * With the steps unrolled (H200, BENCHMARKS.md "Late pass"), 8 x 8 per thread on the 64 x 128 expand
 * tile (128 threads) is 2-9% faster where the reduction is deep (C >= 192) and the GEMM launches at least
 * EXPAND_8X8_MIN_WORKGROUPS of them (ConvNeXt-T 28x28 and 14x14 at N=32), 2-4% slower at 7x7x768 (600
 * workgroups), and slower at C = 96 (6 reduction steps).
 */
function preferredTiles(stage: GemmStage, spec: BlockSpec, rows?: number): GemmTile[] {
  if (stage === 'expand') {
    const wide = tile(64, 128, 16, 8, 2);
    const deepAndBusy = rows != null && spec.channels >= 192 &&
      gemmWorkgroupCount(wide, rows, spec.hidden) >= EXPAND_8X8_MIN_WORKGROUPS;
    return deepAndBusy ? [wide, tile(64, 128, 16, 4, 2), ...FALLBACK] : [tile(64, 128, 16, 4, 2), ...FALLBACK];
  }
  return spec.channels >= 192 ? [tile(32, 96, 16, 4, 3), tile(64, 96, 16, 4, 3), ...FALLBACK] :
    [tile(64, 96, 16, 4, 3), ...FALLBACK];
}

/** Eight 128-thread workgroups per SM of a 132-SM GPU (H100 / H200): below it, 4 x 8 per thread keeps more threads. */
const EXPAND_8X8_MIN_WORKGROUPS = 1056;

/** Whether tile `t` can run one stage of `spec` within `maxThreads` and `maxStorage` bytes of workgroup memory. */
export function gemmTileFits(t: GemmTile, stage: GemmStage, spec: BlockSpec, maxThreads: number,
  maxStorage: number): boolean {
  const n = stage === 'expand' ? spec.hidden : spec.channels;
  const k = stage === 'expand' ? spec.channels : spec.hidden;
  return gemmTileFitsShape(t, n, k, maxThreads, maxStorage);
}

/**
 * The tile for one stage of `spec` over `rows` output rows (pixels): `forced` when it fits, else the first
 * preferred tile that fits, else null.
 */
export function chooseGemmTile(stage: GemmStage, spec: BlockSpec, maxThreads: number, maxStorage: number,
  forced?: GemmTile, rows?: number): GemmTile | null {
  if (forced != null) return gemmTileFits(forced, stage, spec, maxThreads, maxStorage) ? forced : null;
  return preferredTiles(stage, spec, rows).find((t) => gemmTileFits(t, stage, spec, maxThreads, maxStorage)) ?? null;
}

export function gemmShaderKey(stage: GemmStage, spec: BlockSpec, t: GemmTile, kSplits = 1): string {
  return `blockGemm_${stage}_c${spec.channels}_d${spec.hidden}` +
    (stage === 'expand' ? `_${spec.activation}` : `_r${+spec.residual}`) +
    `_${gemmTileKey(t, kSplits)}`;
}

/**
 * Whether the project GEMM can split its reduction (K = D) into `s` parts: each part a whole number of bk steps.
 * Split-K writes raw partial sums [s, M, C]; the block's split-sum dispatch adds them, b2' and the residual.
 */
export function projectSplitFits(spec: BlockSpec, t: GemmTile, s: number): boolean {
  return gemmSplitFits(spec.hidden, t, s);
}

/** The GEMM operands of one stage: A `a` [M, K], weights and biases from `mlp`, the residual from `x`. */
function mlpOperands(stage: GemmStage, spec: BlockSpec): GemmOperands {
  const c4 = spec.channels / 4;
  const off = packedOffsets(spec.channels, spec.hidden);
  const [k, n] = stage === 'expand' ? [spec.channels, spec.hidden] : [spec.hidden, spec.channels];
  const wOff = stage === 'expand' ? off.w1 : off.w2;
  const bOff = stage === 'expand' ? off.b1 : off.b2;
  return {
    k, n,
    aLoad: (m, kq) => `a[(${m}) * ${k / 4}u + ${kq}]`,
    bLoad: (kr, col) => `mlp[${wOff}u + (${kr}) * ${n / 4}u + ${col}]`,
    epilogue: (v, row, col) => stage === 'expand' ? `activation(${v} + mlp[${bOff}u + ${col}])` :
      `${v} + mlp[${bOff}u + ${col}]${spec.residual ? ` + x[${row} * ${c4}u + ${col}]` : ''}`,
    declarations: stage === 'expand' ? wgslActivationFunction(spec.activation) : '',
  };
}

/**
 * WGSL body for one stage. Inputs: `a` [M, K] vec4s, `mlp` (the packed weights), and for a residual projection
 * (unsplit) `x` [M, C]; output `result` [M, N] (split-K: the partials [S, M, C]); `uniforms.rows` = M.
 */
export function gemmShaderSource(stage: GemmStage, spec: BlockSpec, t: GemmTile, kSplits = 1): string {
  if (kSplits > 1 && (stage !== 'project' || !projectSplitFits(spec, t, kSplits))) {
    throw new Error(`gemm-mlp: ${kSplits} reduction splits do not fit the ${stage} GEMM of ${spec.hidden} hidden channels`);
  }
  return gemmSource(mlpOperands(stage, spec), t, kSplits);
}

/** Workgroups of one stage's dispatch for M rows (times the reduction splits). */
export function gemmWorkgroups(stage: GemmStage, spec: BlockSpec, t: GemmTile, rows: number, kSplits = 1): number {
  return gemmWorkgroupCount(t, rows, stage === 'expand' ? spec.hidden : spec.channels, kSplits);
}
