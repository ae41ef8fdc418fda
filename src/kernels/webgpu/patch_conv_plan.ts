/**
 * Tiling of the WebGPU patch conv: a GEMM [M = N Ho Wo, K = k k Cin] x [K, Cout] whose A rows are the
 * gathered k x k x Cin patches. A workgroup owns a tileM x tileN block of the output; each thread
 * `rows` output pixels x `cols` output vectors (vec4 when Cout % 4 == 0, else scalars), with the rows
 * strided by threadRows and the vectors by threadCols (conflict-free workgroup-memory reads, coalesced
 * stores). The reduction walks K in slices of kSlice: the A slice [kSlice x tileM] and B slice
 * [kSlice x tileN] are staged in workgroup memory, plus (preNorm) each input pixel's mean and rstd.
 *
 * Split-K (kSplits S > 1, small batches whose plain plan launches too few workgroups): dispatch 1 runs S
 * workgroups per output tile, split s reducing the whole K slices [s L, (s + 1) L) (L = slices / S) into a
 * partial [S, M, Cout]; dispatch 2 sums the S partials in a fixed order and adds the bias (patch_conv_program.ts).
 */
import { fewestSplitsReaching, type TilingLimits } from './tiling.js';
import { choosePatchGemm, type PatchGemmChoice } from './patch_conv_gemm.js';
import type { GemmTile } from './gemm_wgsl.js';
import { limitsKey, planCache } from './plan_cache.js';

export interface PatchConvShape {
  n: number; h: number; w: number; cin: number; cout: number; k: number; preNorm: boolean;
  /** A LayerNorm of the output (the stem's): in the GEMM's epilogue where it fits, else its own dispatch. */
  postNorm?: boolean;
}

export interface PatchConvTiling {
  /** Output pixels per thread. */
  rows: number;
  /** Output vectors (of `components` channels) per thread. */
  cols: number;
  threadRows: number;
  threadCols: number;
  workgroupSize: number;
  /** Output pixels per workgroup: threadRows x rows. */
  tileM: number;
  /** Output vectors per workgroup: threadCols x cols. */
  tileNV: number;
  /** Reduction steps (of K) staged per slice; a multiple of xComponents (shrunk until the tile fits). */
  kSlice: number;
  /**
   * preNorm: threads summing one input pixel's channels together (a power of two): consecutive lanes read
   * consecutive vectors of the pixel, so a warp's loads touch a few cache lines instead of one per lane.
   */
  statLanes: number;
  storageBytes: number;
}

export interface PatchConvPlan extends PatchConvShape {
  ho: number; wo: number;
  /** Rows of the GEMM: N Ho Wo. */
  m: number;
  /** Reduction depth: k k Cin. */
  depth: number;
  /** 4: x read as vec4 (Cin % 4 == 0); 1: scalars. */
  xComponents: 1 | 4;
  /** 4: filter, bias and output as vec4 (Cout % 4 == 0); 1: scalars. */
  components: 1 | 4;
  tiling: PatchConvTiling;
  tilesM: number;
  tilesN: number;
  /** Split-K factor S: 1 = one dispatch; S > 1 = S workgroups per tile into partials, then the sum dispatch. */
  kSplits: number;
  /** K values each split reduces (whole slices): ceil(depth / kSlice) / S x kSlice, the last split clamped to depth. */
  splitDepth: number;
  /**
   * preNorm: the most patch positions (dy, dx) one split's K range touches, i.e. the pixels per output row
   * whose statistics a split computes (k k without a split).
   */
  splitPositions: number;
  /** Workgroups of the GEMM dispatch: tilesM tilesN S. */
  workgroups: number;
  /** Programs per call once the weights are folded: 1, or 2 with a split (GEMM into partials, then the sum). */
  dispatches: number;
  /**
   * Where it applies, the GEMM path (patch_conv_gemm.ts) runs instead of the direct kernel above: FusedLayerNorm
   * (preNorm), the shared GEMM over gathered patches, and a summing dispatch when its reduction is split.
   */
  gemm?: PatchGemmChoice;
}

export type PatchConvChoice = { ok: true; plan: PatchConvPlan } | { ok: false; reason: string };

/** Knobs a benchmark sweep or test may force; the plan still shrinks kSlice to fit the limits. */
export interface PatchConvOverride {
  rows?: number; cols?: number; threadCols?: number; workgroupSize?: number; kSlice?: number; statLanes?: number;
  /** Split-K factor S of the direct kernel; must divide the plan's number of K slices (else the plan says why, not ok). */
  kSplits?: number;
  /**
   * The GEMM path (where the gather and a tile fit): false disables it; absent or true = on, except that a forced
   * kSplits (a direct-kernel knob) without gemm: true keeps the direct kernel.
   */
  gemm?: boolean;
  /** The GEMM path's reduction splits instead of its rule (ignored unless they divide K into whole steps). */
  gemmSplits?: number;
  /** The GEMM path's k loop written out (GemmTile.unrolled, the default) or not (the A/B). */
  gemmUnrolled?: boolean;
  /**
   * The GEMM path's pre-LayerNorm folded past a split GEMM (PatchGemmChoice.foldedNorm): true wherever the splits
   * allow it, false never (its own FusedLayerNorm dispatch); absent, the rule (small GEMMs only).
   */
  gemmFoldedNorm?: boolean;
  /** The GEMM path's tile instead of the first of its list that fits (ignored unless it fits the shape and limits). */
  gemmTile?: GemmTile;
}

let override: PatchConvOverride | null = null;
let overrideVersion = 0;
/** Forces tiling knobs for subsequent patch conv calls (benchmarks, tests); null restores the defaults. */
export function setPatchConvOverride(o: PatchConvOverride | null): void { override = o; overrideVersion++; }

/** Threads per workgroup by default (fits SwiftShader's 256). */
const WORKGROUP = 128;
/** Enough workgroups to fill a large GPU (2 per SM of a 132-SM H100/H200) before tiles shrink. */
const TARGET_WORKGROUPS = 264;
/** Widest output tile, in floats: 128 channels x 4 pixels x 4 rows keeps 32 accumulators per thread. */
const MAX_TILE_N = 128;
const K_SLICES = [32, 24, 16, 8, 4];
const SMALL_K_SLICE = 8;
const SMALL_SLICE_MIN_ROWS = 1024;

/**
 * Workgroup memory: A slice, B slice, per-pixel LayerNorm statistics (of `positions` patch positions per
 * output row; all k k without a split) and their reduction buffer.
 */
export function patchConvStorageBytes(s: PatchConvShape, components: number, tileM: number, tileNV: number,
  kSlice: number, workgroupSize: number, positions = s.k * s.k): number {
  return 4 * (kSlice * tileM + kSlice * tileNV * components + (s.preNorm ? 2 * tileM * positions + workgroupSize : 0));
}

/**
 * Split-K rule, written for the large GPUs we measure (tiling.ts NOMINAL_SMS = 132): split when the plain plan
 * launches fewer than SPLIT_BELOW_WORKGROUPS (~8 per SM), aiming at SPLIT_TARGET_WORKGROUPS (~16 per SM).
 * Measured on an H100 (bench:patch-conv --splitk, 3 interleaved rounds; BENCHMARKS.md "FusedPatchConv"): at N=1
 * the downsamples launch 42-158 workgroups, each walking 12-48 K slices one after another, and split they take
 * 0.061 instead of 0.196 ms (down3, S = 12) and 0.053 instead of 0.110 ms (down2, S = 6); at N=32 down3 (294
 * workgroups) 0.265 instead of 0.376 ms with S = 8 and down2 (588) 0.298 instead of 0.349 with S = 4, while down1
 * (1256) and the stem (2509) gain nothing.
 */
export const SPLIT_BELOW_WORKGROUPS = 1024;
export const SPLIT_TARGET_WORKGROUPS = 2048;
/**
 * Fewest K values per split: each split pays a fixed prologue (its pixels' statistics), writes a partial tile and
 * has it read back by the sum; 128 = 4 slices of 32 keeps those small next to the split's own GEMM.
 */
export const MIN_SPLIT_DEPTH = 128;

/**
 * The split-K factor for a plan launching `workgroups` workgroups over `slices` K slices of `kSlice`: 1 when
 * that reaches SPLIT_BELOW_WORKGROUPS; else the smallest S dividing `slices` with workgroups x S >=
 * SPLIT_TARGET_WORKGROUPS (or the largest allowed), keeping at least MIN_SPLIT_DEPTH K values per split.
 */
export function choosePatchConvSplits(workgroups: number, slices: number, kSlice: number): number {
  if (workgroups >= SPLIT_BELOW_WORKGROUPS) return 1;
  const allowed: number[] = [];
  for (let sp = 1; sp <= slices; sp++) {
    if (slices % sp === 0 && (sp === 1 || (slices / sp) * kSlice >= MIN_SPLIT_DEPTH)) allowed.push(sp);
  }
  return fewestSplitsReaching(allowed, workgroups, SPLIT_TARGET_WORKGROUPS);
}

/** The most patch positions (K / Cin runs) any split's K range [s L, min((s + 1) L, depth)) touches. */
export function splitPositions(s: PatchConvShape, depth: number, splitDepth: number, kSplits: number): number {
  let most = 0;
  for (let sp = 0; sp < kSplits; sp++) {
    const begin = sp * splitDepth;
    const end = Math.min(depth, begin + splitDepth);
    if (end > begin) most = Math.max(most, Math.floor((end - 1) / s.cin) - Math.floor(begin / s.cin) + 1);
  }
  return most;
}

/** Lanes per pixel for the statistics: up to 8 (8 x 16 B = one 128-byte line), no more than the pixel's vectors. */
const MAX_STAT_LANES = 8;
export function statLanesFor(cinVectors: number, workgroupSize: number): number {
  let t = 1;
  while (t * 2 <= Math.min(MAX_STAT_LANES, cinVectors, workgroupSize)) t *= 2;
  return t;
}

/** threadCols for `cols` vectors per thread: least padding of Cout, then the widest tile. */
function chooseThreadCols(coutV: number, cols: number, components: number, threads: number): number {
  let best = 1;
  let bestKey = [Infinity, 0];
  const maxCols = Math.max(1, Math.min(threads, Math.floor(MAX_TILE_N / (cols * components))));
  for (let tc = 1; tc <= maxCols; tc++) {
    const tile = tc * cols;
    if (tile > coutV && tc > 1 && (tc - 1) * cols >= coutV) break;
    const waste = Math.ceil(coutV / tile) * tile - coutV;
    if (waste < bestKey[0] || (waste === bestKey[0] && tile > bestKey[1])) { best = tc; bestKey = [waste, tile]; }
  }
  return best;
}

export function planPatchConv(s: PatchConvShape, limits: TilingLimits): PatchConvChoice {
  const [ho, wo] = [Math.floor(s.h / s.k), Math.floor(s.w / s.k)];
  const m = s.n * ho * wo;
  const depth = s.k * s.k * s.cin;
  if (m === 0) return { ok: false, reason: 'empty output' };
  const xComponents = s.cin % 4 === 0 ? 4 : 1;
  const components = s.cout % 4 === 0 ? 4 : 1;
  const coutV = s.cout / components;
  const o = override ?? {};
  const threads = Math.min(o.workgroupSize ?? WORKGROUP, limits.maxComputeInvocationsPerWorkgroup);
  const cols = Math.max(1, Math.min(o.cols ?? (components === 4 ? 2 : 4), coutV));
  const threadCols = Math.min(o.threadCols ?? chooseThreadCols(coutV, cols, components, threads), threads);
  const threadRows = Math.floor(threads / threadCols);
  const tileNV = threadCols * cols;
  const tilesN = Math.ceil(coutV / tileNV);
  // Largest rows per thread that still launches TARGET_WORKGROUPS (small batches get smaller tiles).
  const rowChoices = o.rows != null ? [o.rows] : [4, 2, 1];
  const rows = rowChoices.find((r) => Math.ceil(m / (threadRows * r)) * tilesN >= TARGET_WORKGROUPS) ??
    rowChoices[rowChoices.length - 1];
  const tileM = threadRows * rows;
  const workgroupSize = threadRows * threadCols;
  const storage = (v: number) => patchConvStorageBytes(s, components, tileM, tileNV, v, workgroupSize);
  const roundUp = Math.ceil(depth / xComponents) * xComponents;
  // Downsample layers (pre-norm) with many output rows: 8-step slices measured fastest on the H200 at N=32
  // (down1 0.38 vs 0.46 ms, down2 0.33 vs 0.41 ms) and slower at N=1 (down1 0.22 vs 0.14 ms); BENCHMARKS.md
  // "FusedPatchConv". The stem and small batches keep the largest slice dividing the depth.
  const preferred = s.preNorm && m >= SMALL_SLICE_MIN_ROWS ?
    [SMALL_K_SLICE, ...K_SLICES.filter((v) => v !== SMALL_K_SLICE)] : K_SLICES;
  const candidates = o.kSlice != null ? [o.kSlice, ...K_SLICES.filter((v) => v < o.kSlice!)] :
    [...preferred.filter((v) => depth % v === 0), ...preferred];
  const slices = [...candidates.map((v) => Math.min(v, roundUp)), 2, 1].filter((v) => v % xComponents === 0);
  // Sized with statistics for all k k positions, the most any split needs: a slice that fits fits every split.
  const kSlice = slices.find((v) => storage(v) <= limits.maxComputeWorkgroupStorageSize);
  if (kSlice == null) {
    return { ok: false, reason: `${tileM} x ${tileNV * components} output tiles need ` +
      `${storage(xComponents)} bytes of workgroup memory even with a ` +
      `${xComponents}-step K slice, the adapter allows ${limits.maxComputeWorkgroupStorageSize} ` +
      '(maxComputeWorkgroupStorageSize)' };
  }
  // Without preNorm there are no statistics: 1, so the shader key does not vary with it.
  const statLanes = !s.preNorm ? 1 : Math.min(o.statLanes ?? statLanesFor(s.cin / xComponents, workgroupSize),
    statLanesFor(Infinity, workgroupSize));
  const tilesM = Math.ceil(m / tileM);
  const kSlices = Math.ceil(depth / kSlice);
  let kSplits = choosePatchConvSplits(tilesM * tilesN, kSlices, kSlice);
  if (o.kSplits != null) {
    if (!Number.isInteger(o.kSplits) || o.kSplits < 1 || kSlices % o.kSplits !== 0) {
      return { ok: false, reason: `patch conv override kSplits ${o.kSplits} does not divide the ${kSlices} K slices ` +
        `of ${kSlice} (K = ${depth})` };
    }
    kSplits = o.kSplits;
  }
  const splitDepth = (kSlices / kSplits) * kSlice;
  // A split normalizes only the patch positions its K range reads: its statistics cost shrinks with its share of K.
  const positions = s.preNorm ? splitPositions(s, depth, splitDepth, kSplits) : s.k * s.k;
  const tiling: PatchConvTiling = { rows, cols, threadRows, threadCols, workgroupSize, tileM, tileNV, kSlice,
    statLanes, storageBytes: patchConvStorageBytes(s, components, tileM, tileNV, kSlice, workgroupSize, positions) };
  const direct: PatchConvPlan = { ...s, ho, wo, m, depth, xComponents, components, tiling, tilesM, tilesN, kSplits,
    splitDepth, splitPositions: positions, workgroups: tilesM * tilesN * kSplits, dispatches: kSplits > 1 ? 2 : 1 };
  const gemm = o.gemm === false || (o.kSplits != null && o.gemm !== true) ? null :
    choosePatchGemm(s, limits, { splits: o.gemmSplits, unrolled: o.gemmUnrolled, foldNorm: o.gemmFoldedNorm, tile: o.gemmTile });
  return { ok: true, plan: gemm == null ? direct : { ...direct, gemm, dispatches: gemm.dispatches } };
}

/**
 * Patch conv plans, cached (plan_cache.ts) by shape, limits and override (a device profile put planPatchConv at
 * ~60 us per call at N=1, BENCHMARKS.md "Late pass").
 */
const cachedPatchConvPlan = planCache<PatchConvChoice>(256);

export function planPatchConvCached(s: PatchConvShape, limits: TilingLimits): PatchConvChoice {
  return cachedPatchConvPlan(`${s.n},${s.h},${s.w},${s.cin},${s.cout},${s.k},${+s.preNorm},${+(s.postNorm ?? false)}|` +
    `${limitsKey(limits)}|` +
    `${overrideVersion}`, () => planPatchConv(s, limits));
}

let last: PatchConvChoice | null = null;
/** The plan of the most recent patch conv call on the webgpu backend (ok: false = the reference ran). */
export function lastPatchConvDecision(): PatchConvChoice | null { return last; }
export function recordPatchConvDecision(c: PatchConvChoice): void { last = c; }
