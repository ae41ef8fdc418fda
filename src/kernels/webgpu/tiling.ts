/**
 * Tile selection for the fused block kernel, from the adapter's limits and the block's shape.
 *
 * A workgroup owns `tilePixels` consecutive output pixels (flattened N*H*W, so tiles need not divide H or
 * W). Workgroup memory holds the tile's conv (+LayerNorm) output [tilePixels x C] and one hidden chunk
 * [tilePixels x hiddenChunk]; the projection accumulators [tilePixels x C] stay in registers for the whole
 * walk over D. Both matmuls are register tiled: each thread owns `rows` pixels x `cols4` vec4 channels.
 */
import type { BlockSpec } from '../../spec/block_spec.js';
import type { GemmTile } from './mlp_gemm_wgsl.js';

/** The adapter limits the tiling depends on (a subset of GPUSupportedLimits). */
export interface TilingLimits {
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  /**
   * The largest buffer one binding may cover (the device's maxStorageBufferBindingSize, or its maxBufferSize when
   * smaller): bounds the intermediates a variant writes to device memory (gemm-mlp's hidden tensor). Absent: no bound.
   */
  maxStorageBufferBindingSize?: number;
}

/** Chromium's software adapter (SwiftShader), the smallest profile we support. */
export const SWIFTSHADER_LIMITS: TilingLimits = { maxComputeWorkgroupStorageSize: 32768,
  maxComputeInvocationsPerWorkgroup: 256 };
/** A datacenter GPU through Dawn/Vulkan (H100, H200). */
export const DATACENTER_LIMITS: TilingLimits = { maxComputeWorkgroupStorageSize: 49152,
  maxComputeInvocationsPerWorkgroup: 1024 };

/** One register-tiled matmul's thread layout: a grid of threadRows x threadCols threads. */
export interface RegisterTile {
  /** Pixels per thread. */
  rows: number;
  /** vec4 output channels per thread. */
  cols4: number;
  threadRows: number;
  threadCols: number;
  /**
   * Thread rows that sit in consecutive lanes (divides threadRows): a 32-lane warp covers laneRows x
   * (32 / laneRows) threads. Every thread of a row loads the same activation vec4 and every thread of a
   * column the same weight vec4, so a warp's loads cost (distinct addresses x 16 B) / 128 B of the
   * L1/workgroup-memory bandwidth: 1 x 32 (row-major lanes, laneRows 1) makes each weight load 4 such
   * wavefronts for a broadcast activation, 8 x 4 one each.
   */
  laneRows: number;
}

export interface BlockTiling {
  workgroupSize: number;
  tilePixels: number;
  /** Hidden channels per chunk of the walk over D (a multiple of 4 dividing D). */
  hiddenChunk: number;
  /** Layout of expand: [tilePixels x C] . [C x hiddenChunk]. */
  expand: RegisterTile;
  /** Layout of project: [tilePixels x hiddenChunk] . [hiddenChunk x C], accumulated over chunks. */
  project: RegisterTile;
  /**
   * Rows of W1' (input channels) staged in workgroup memory per step of expand, 0 = read from device
   * memory directly; likewise rows of W2' (hidden channels) for project. Staging loads each weight once
   * per workgroup, coalesced, instead of once per thread row through the cache.
   */
  expandSlice: number;
  projectSlice: number;
  /** Bytes of workgroup memory the kernel declares. */
  storageBytes: number;
  /** Steps of each matmul's reduction loop unrolled per iteration (block_wgsl.ts `loop`). */
  unroll: number;
  /** Staged weight slices: load the next slice into registers during this slice's FMAs (`stagedLoop`). */
  prefetch: boolean;
  /** Adjacent output pixels per thread in the depthwise conv (k + convStrip - 1 input columns per row). */
  convStrip: number;
  /**
   * Split-hidden ("split-K") factor S: 1 = the one-dispatch kernel. S > 1: dispatch 1 runs (tiles x S)
   * workgroups, each computing the conv (+LayerNorm) of its tile and the MLP over D / S hidden channels into
   * a partial projection [S, P, C]; dispatch 2 sums the partials and adds b2' and the residual.
   */
  hiddenSplits: number;
  /** Set by the paired rule (pairedSplitTiling): the doubled tile with 2 hidden splits. */
  pairedSplit?: boolean;
  /** The conv strip's k rows as a loop with a trip count hidden from the compiler, not written out (block_wgsl.ts). */
  convRowLoop?: boolean;
}

export type TilingChoice = { ok: true; tiling: BlockTiling } | { ok: false; reason: string };

/**
 * Threads per workgroup and unrolling of the matmul loops, measured on H200 (bench --sweep, 3 interleaved
 * rounds, BENCHMARKS.md "Tuning runs"): narrow blocks (staged weights, 64-pixel tiles) run fastest with 256
 * threads and no unrolling (ConvNeXt N=32 56x56x96: 0.93 ms vs 1.30 ms at 128 threads); wide blocks
 * (unstaged, 4-16 pixel tiles) with 128 threads and 4 steps unrolled (28x28x192 0.79 vs 1.28 ms, 14x14x384
 * 0.83 vs 1.20, 7x7x768 0.98 vs 1.67): twice the outputs per thread for the same tile, and loads of four
 * steps in flight before their FMAs. Both fit SwiftShader's 256 invocations.
 */
const NARROW_WORKGROUP = 256;
const WIDE_WORKGROUP = 128;
const NARROW_UNROLL = 1;
const WIDE_UNROLL = 4;
/**
 * Narrow (staged) blocks prefetch the next weight slice into registers: ConvNeXt N=32 56x56x96 0.92 -> 0.74 ms,
 * ConvFirst 1.05 -> 0.84-0.88 ms (H200 sweep); it does not apply to unstaged wide blocks.
 */
const NARROW_PREFETCH = true;
/** Depthwise conv pixels per thread (4-pixel strips: 0.51 -> 0.14 ms for the 7x7 at N=32 56x56x96). */
const CONV_STRIP = 4;
/**
 * The depthwise strip for a tile: the largest of 4, 2, 1 dividing both the row width and the tile, so that no
 * strip crosses a row end (a crossing strip falls back to computing its pixels one by one). Measured (H200 N=1
 * sweep, BENCHMARKS.md "Third tuning pass"): the conv + norm phase of 4-pixel tiles at W = 14 took 0.056 ms with
 * 4-pixel strips and 0.032 with 2, at W = 7 0.060 with 4 and 0.040 with 1.
 */
function rowStrip(width: number, tilePixels: number): number {
  return [CONV_STRIP, 2, 1].find((s) => width % s === 0 && tilePixels % s === 0) ?? 1;
}
/** Upper bound on accumulator vec4s per thread for the projection (32 floats, live across the D walk). */
const MAX_PROJECT_VEC4 = 8;
/** Upper bound on accumulator vec4s per thread for one expand chunk. */
const MAX_EXPAND_VEC4 = 4;
/** Whether register tile `t` exists and keeps at most `maxVec4` accumulator vec4s per thread. */
function fitsRegisters(t: RegisterTile | null, maxVec4: number): t is RegisterTile {
  return t != null && t.rows * t.cols4 <= maxVec4;
}
const TILE_PIXELS = [64, 32, 16, 8, 4, 2, 1];
const MAX_HIDDEN_CHUNK = 128;
/** Smaller chunks mean more barriers per weight loaded; prefer a smaller pixel tile over them. */
const MIN_HIDDEN_CHUNK = 32;
const STAGED_MAX_CHANNELS = 128;

function divisors(n: number, max: number): number[] {
  const out: number[] = [];
  for (let i = 1; i <= Math.min(n, max); i++) if (n % i === 0) out.push(i);
  return out;
}

/**
 * Row stride (in vec4s) of a [pixels x n4] tile in workgroup memory: odd, so the 8 consecutive pixel rows a
 * warp reads at once fall in 8 different 16-byte bank groups instead of one.
 */
export function rowStride4(n4: number): number {
  return n4 % 2 === 0 ? n4 + 1 : n4;
}

/** Workgroup memory of a tiling: conv tile, hidden chunk (both row-padded), LayerNorm row statistics. */
export function storageBytes(spec: BlockSpec, tilePixels: number, hiddenChunk: number, expandSlice = 0,
  projectSlice = 0): number {
  return tilePixels * rowStride4(spec.channels / 4) * 16 + tilePixels * rowStride4(hiddenChunk / 4) * 16 +
    (spec.norm === 'layernorm' ? tilePixels * 8 : 0) +
    Math.max(expandSlice * hiddenChunk, projectSlice * spec.channels) * 4;
}

const SLICES = [32, 16, 8, 4];

/** The largest weight slices (expand first: it has the smaller per-thread tile) that fit `budget` bytes. */
function chooseSlices(spec: BlockSpec, hiddenChunk: number, budget: number): [number, number] | null {
  for (const ke of SLICES.filter((v) => spec.channels % v === 0)) {
    for (const kp of SLICES.filter((v) => hiddenChunk % v === 0 && v <= ke)) {
      if (Math.max(ke * hiddenChunk, kp * spec.channels) * 4 <= budget) return [ke, kp];
    }
  }
  return null;
}

/** Lane rows per warp wanted: 8 x 4 lanes balances activation and weight loads (see RegisterTile). */
const PREFERRED_LANE_ROWS = 8;

/** The largest power of two <= `want` dividing threadRows. */
function laneRowsFor(threadRows: number, want: number): number {
  let r = 1;
  while (r * 2 <= want && threadRows % (r * 2) === 0) r *= 2;
  return r;
}

/**
 * The thread layout for an [m x n4] output with `threads` threads: the fewest outputs per thread that fit,
 * then the squarest (rows ~ 4 * cols4) so a thread's loads are reused by the most FMAs.
 */
export function registerTile(m: number, n4: number, threads: number): RegisterTile | null {
  const best = bestRegisterTile(m, n4, threads);
  return best && { ...best, laneRows: laneRowsFor(best.threadRows, override?.laneRows ?? PREFERRED_LANE_ROWS) };
}

function bestRegisterTile(m: number, n4: number, threads: number): Omit<RegisterTile, 'laneRows'> | null {
  let best: Omit<RegisterTile, 'laneRows'> | null = null;
  let bestKey = [Infinity, Infinity];
  for (const rows of divisors(m, 8)) {
    for (const cols4 of divisors(n4, 8)) {
      const threadRows = m / rows;
      const threadCols = n4 / cols4;
      if (threadRows * threadCols > threads) continue;
      // loads per FMA: (rows + 4 * cols4) / (4 * rows * cols4)
      const key = [rows * cols4, (rows + 4 * cols4) / (rows * cols4)];
      if (key[0] < bestKey[0] || (key[0] === bestKey[0] && key[1] < bestKey[1])) {
        best = { rows, cols4, threadRows, threadCols };
        bestKey = key;
      }
    }
  }
  return best;
}

/**
 * Chooses the tiling for `spec` on input [N,H,W,C] under `limits`, or says why the fused kernel cannot
 * run. Prefers the largest pixel tile (fewer re-reads of the MLP weights) whose accumulators fit the
 * register budget, then the largest hidden chunk that fits workgroup memory.
 */
export function chooseTiling(spec: BlockSpec, xShape: readonly number[], limits: TilingLimits): TilingChoice {
  const choice = chooseBlockTiling(spec, xShape, limits);
  return choice.ok ? { ok: true, tiling: withConvRows(choice.tiling, false) } : choice;
}

/**
 * The conv strips' rows (BlockTiling.convRowLoop): `loopByRule` unless the override forces the loop or the written-out
 * rows. The rule (chooseConvTiling) loops for grouped convs in gemm-mlp's conv + norm dispatch only: measured (H100,
 * BENCHMARKS.md "Early-morning pass"), that dispatch for ConvFirst at N=32 went 0.120 / 0.051 / 0.036 / 0.029 ->
 * 0.118 / 0.049 / 0.032 / 0.024 ms (56x56 .. 7x7), and ConvFirstNet-T 9.53 -> 9.44, 9.49 -> 9.38 and 9.45 -> 9.38 ms in
 * three same-run A/Bs; the one-dispatch kernels' conv phase at N=1 did not change (one run faster, one slower), nor
 * did ConvNeXt's depthwise 7x7.
 */
function withConvRows(t: BlockTiling, loopByRule: boolean): BlockTiling {
  const { convRowLoop: _, ...rest } = t;
  return override?.convRowLoop ?? loopByRule ? { ...rest, convRowLoop: true } : rest;
}

function chooseBlockTiling(spec: BlockSpec, xShape: readonly number[], limits: TilingLimits): TilingChoice {
  const base = chooseDefaultTiling(spec, xShape, limits);
  const choice = base.ok && override != null ? applyOverride(spec, base.tiling, override, limits) : base;
  if (!choice.ok) return choice;
  const pixels = xShape[0] * xShape[1] * xShape[2];
  const forced = override?.hiddenSplits;
  if (forced != null) {
    if (forced < 1 || (spec.hidden / choice.tiling.hiddenChunk) % forced !== 0) {
      return { ok: false, reason: `tiling override hiddenSplits ${forced} does not divide the ` +
        `${spec.hidden / choice.tiling.hiddenChunk} hidden chunks` };
    }
    return { ok: true, tiling: { ...choice.tiling, hiddenSplits: forced } };
  }
  const paired = override?.tilePixels == null && override?.pairedSplits !== false ?
    pairedSplitTiling(spec, pixels, choice.tiling, limits) : null;
  if (paired != null) return { ok: true, tiling: paired };
  return { ok: true, tiling: { ...choice.tiling, hiddenSplits: chooseHiddenSplits(spec, pixels, choice.tiling) } };
}

/**
 * A wide block (unstaged weights) whose tiles number 1-2 per SM: twice the pixels per tile and the hidden
 * dimension split in 2, the same workgroup count with each workgroup re-reading half as much of W1' and W2'
 * (through L2) per pixel. Measured at N=1 28x28x192 (H100, two same-machine sweeps, BENCHMARKS.md "Late
 * pass"): ConvFirst 0.119 / 0.091 -> 0.104 / 0.078 ms, ConvNeXt 0.121 / 0.118 -> 0.110 / 0.116 ms.
 * Applied from 4- to 8-pixel tiles only (the measured case). Null when the rule does not apply or the doubled tile
 * does not fit.
 */
function pairedSplitTiling(spec: BlockSpec, pixels: number, t: BlockTiling, limits: TilingLimits): BlockTiling | null {
  const tiles = Math.ceil(pixels / t.tilePixels);
  const tilePixels = 2 * t.tilePixels;
  const chunks = spec.hidden / t.hiddenChunk;
  // Measured only from 4- to 8-pixel tiles (larger tiles have other register and occupancy trade-offs).
  if (spec.channels <= STAGED_MAX_CHANNELS || t.tilePixels !== 4 || tiles < SPLIT_BELOW_TILES ||
      tiles >= 2 * SPLIT_BELOW_TILES || chunks % 2 !== 0 || spec.hidden / 2 < MIN_SLICE_HIDDEN) return null;
  const project = registerTile(tilePixels, spec.channels / 4, t.workgroupSize);
  const expand = registerTile(tilePixels, t.hiddenChunk / 4, t.workgroupSize);
  const bytes = storageBytes(spec, tilePixels, t.hiddenChunk, t.expandSlice, t.projectSlice);
  if (!fitsRegisters(project, MAX_PROJECT_VEC4) || !fitsRegisters(expand, MAX_EXPAND_VEC4) ||
      bytes > limits.maxComputeWorkgroupStorageSize) return null;
  return { ...t, tilePixels, expand, project, storageBytes: bytes, hiddenSplits: 2, pairedSplit: true };
}

/**
 * WebGPU exposes no SM count; the split rule is written for the large GPUs we measure (132 SMs on
 * H100/H200). Measured on H200 (BENCHMARKS.md, "Split-hidden variant"): splitting pays off when the plain
 * kernel has fewer tiles than SMs (N=1 14x14x384: 49 tiles, 4.4-6.8x faster; 7x7x768: 13 tiles, 9-18x), but
 * not at 196 tiles (N=1 56x56x96: 10-15% slower, the second dispatch's fixed cost) nor at 392 (N=32 7x7x768:
 * 8-25% slower).
 */
export const NOMINAL_SMS = 132;
/** The plain kernel runs when it launches at least this many workgroups (one per SM). */
export const SPLIT_BELOW_TILES = NOMINAL_SMS;
/** Workgroups the split aims for: 4 per SM (S = 12 and 24 were the fastest measured at 49 and 13 tiles). */
export const TARGET_WORKGROUPS = 4 * NOMINAL_SMS;
/**
 * Fewest hidden channels per slice: every slice recomputes the tile's conv (+LayerNorm), 2 k^2 G FLOPs per
 * channel against 4 D / S for its MLP slice, and writes + re-reads a [P, C] partial.
 */
export const MIN_SLICE_HIDDEN = 128;

/**
 * The split-hidden factor: 1 when the plain kernel's ceil(P / tilePixels) workgroups reach
 * SPLIT_BELOW_TILES; otherwise the smallest S dividing the number of hidden chunks with tiles x S >=
 * TARGET_WORKGROUPS (or the largest allowed), with at least MIN_SLICE_HIDDEN hidden channels per slice.
 */
export function chooseHiddenSplits(spec: BlockSpec, pixels: number, t: BlockTiling): number {
  const tiles = Math.ceil(pixels / t.tilePixels);
  if (tiles >= SPLIT_BELOW_TILES) return 1;
  const chunks = spec.hidden / t.hiddenChunk;
  const allowed = divisors(chunks, chunks).filter((s) => spec.hidden / s >= MIN_SLICE_HIDDEN);
  return fewestSplitsReaching(allowed, tiles, TARGET_WORKGROUPS);
}

/**
 * The choice every split reduction shares (split-hidden, the gemm-mlp project split-K, both patch conv split-Ks):
 * the fewest of the `allowed` split counts (ascending) that take `workgroups` to at least `target`, else the most
 * allowed, else 1.
 */
export function fewestSplitsReaching(allowed: number[], workgroups: number, target: number): number {
  return allowed.find((s) => workgroups * s >= target) ?? allowed[allowed.length - 1] ?? 1;
}

/** Tiling knobs a benchmark may force (to sweep configurations); each must still fit the limits. */
export interface TilingOverride {
  workgroupSize?: number;
  tilePixels?: number;
  hiddenChunk?: number;
  expandSlice?: number;
  projectSlice?: number;
  /** Split-hidden factor; absent = the automatic choice for the (overridden) tile. */
  hiddenSplits?: number;
  /** false: no doubled tile with 2 hidden splits at 1-2 tiles per SM (pairedSplitTiling), the A/B of that rule. */
  pairedSplits?: boolean;
  /** Lane rows per warp wanted (RegisterTile.laneRows); 1 = row-major lanes. */
  laneRows?: number;
  unroll?: number;
  prefetch?: boolean;
  convStrip?: number;
  /** Force the 'gemm-mlp' variant on (true) or off (false); absent = the automatic rule (plan.ts). */
  gemmMlp?: boolean;
  /** gemm-mlp GEMM tiles to use instead of the preferred ones (must divide the shape; mlp_gemm_wgsl.ts). */
  gemmExpand?: GemmTile;
  gemmProject?: GemmTile;
  /** gemm-mlp's project GEMM: reduction splits (split-K, then the split-sum dispatch); absent = the rule. */
  gemmProjectSplits?: number;
  /** gemm-mlp: the chosen (or forced) tiles' k loops written out (GemmTile.unrolled) or not, per stage. */
  gemmUnrolled?: { expand: boolean; project: boolean };
  /** gemm-mlp's conv + norm dispatch: workgroup size and pixels per tile. */
  convWorkgroupSize?: number;
  convTilePixels?: number;
  /** The conv strips' rows as a loop (true) or written out (false) in every kernel with a conv phase; absent = the rule
   * (withConvRows). */
  convRowLoop?: boolean;
}

let override: TilingOverride | null = null;
let overrideVersion = 0;
/** Forces tiling knobs for subsequent calls (benchmark sweeps); null restores the automatic choice. */
export function setTilingOverride(o: TilingOverride | null): void { override = o; overrideVersion++; }
/** The forced 'gemm-mlp' choice and tiles, if any. */
export function gemmMlpOverride(): Pick<TilingOverride,
  'gemmMlp' | 'gemmExpand' | 'gemmProject' | 'gemmProjectSplits' | 'gemmUnrolled'> {
  return { gemmMlp: override?.gemmMlp, gemmExpand: override?.gemmExpand, gemmProject: override?.gemmProject,
    gemmProjectSplits: override?.gemmProjectSplits, gemmUnrolled: override?.gemmUnrolled };
}
/** Changes whenever the override does (plan caches key on it). */
export function tilingOverrideVersion(): number { return overrideVersion; }

/** gemm-mlp's conv + norm dispatch: threads per workgroup (a whole strip of vec4 channels per thread). */
const CONV_WORKGROUP = 256;
/** Strips the depthwise conv prefers when they divide the row (so no strip crosses a row end). */
const CONV_STRIPS_BY_ROW = [7, 4];

/**
 * The tiling of dispatch 1 of 'gemm-mlp' (conv + norm written to [P, C]). It holds no MLP accumulators, so
 * its tile is not the one-dispatch kernel's (4-16 pixels for C > 128, 128 threads): a strip of `convStrip` pixels
 * that divides the row (7 for ConvNeXt-T's 56/28/14/7, so no strip falls back to the per-pixel path at a row
 * end), and about one strip of one vec4 channel per thread. Measured (H100 sweep, BENCHMARKS.md): the conv +
 * norm dispatch at N=32 0.078 -> 0.072 ms (28x28x192), 0.067 -> 0.033 (14x14x384), 0.060 -> 0.022 (7x7x768).
 */
export function chooseConvTiling(spec: BlockSpec, xShape: readonly number[], base: BlockTiling,
  limits: TilingLimits): BlockTiling {
  const o = override;
  const c4 = spec.channels / 4;
  const threads = Math.min(o?.convWorkgroupSize ?? CONV_WORKGROUP, limits.maxComputeInvocationsPerWorkgroup);
  const width = xShape[2];
  // Grouped convs use a fixed strip in block_wgsl.ts (GROUPED_STRIP = 4); the tile must be a multiple of it.
  const strip = spec.groupWidth === 1 ? (o?.convStrip ?? CONV_STRIPS_BY_ROW.find((s) => width % s === 0) ?? CONV_STRIP) : 4;
  const bytes = (tp: number) => tp * rowStride4(c4) * 16 + (spec.norm === 'layernorm' ? tp * 8 : 0);
  let tilePixels = o?.convTilePixels ?? strip * Math.max(1, Math.floor(threads / c4));
  while (tilePixels > strip && bytes(tilePixels) > limits.maxComputeWorkgroupStorageSize) tilePixels -= strip;
  return withConvRows({ ...base, workgroupSize: threads, tilePixels, convStrip: strip, hiddenSplits: 1,
    storageBytes: bytes(tilePixels) }, spec.groupWidth >= 4);
}

function applyOverride(spec: BlockSpec, base: BlockTiling, o: TilingOverride, limits: TilingLimits): TilingChoice {
  const threads = o.workgroupSize ?? base.workgroupSize;
  const tilePixels = o.tilePixels ?? base.tilePixels;
  const hiddenChunk = o.hiddenChunk ?? base.hiddenChunk;
  const expandSlice = o.expandSlice ?? base.expandSlice;
  const projectSlice = o.projectSlice ?? base.projectSlice;
  const bytes = storageBytes(spec, tilePixels, hiddenChunk, expandSlice, projectSlice);
  const expand = registerTile(tilePixels, hiddenChunk / 4, threads);
  const project = registerTile(tilePixels, spec.channels / 4, threads);
  if (threads > limits.maxComputeInvocationsPerWorkgroup || bytes > limits.maxComputeWorkgroupStorageSize ||
      spec.hidden % hiddenChunk !== 0 || (expandSlice > 0 && spec.channels % expandSlice !== 0) ||
      (projectSlice > 0 && hiddenChunk % projectSlice !== 0) ||
      expand == null || project == null) {
    return { ok: false, reason: `tiling override ${JSON.stringify(o)} does not fit` };
  }
  return { ok: true, tiling: { workgroupSize: threads, tilePixels, hiddenChunk, expand, project, expandSlice,
    projectSlice, storageBytes: bytes, hiddenSplits: 1, unroll: o.unroll ?? base.unroll,
    prefetch: o.prefetch ?? base.prefetch, convStrip: o.convStrip ?? base.convStrip } };
}

function chooseDefaultTiling(spec: BlockSpec, xShape: readonly number[], limits: TilingLimits): TilingChoice {
  const c = spec.channels;
  const d = spec.hidden;
  if (c % 4 !== 0 || d % 4 !== 0) {
    return { ok: false, reason: `C = ${c} and D = ${d} must be multiples of 4 (the kernel moves vec4 channels)` };
  }
  const staged = c <= STAGED_MAX_CHANNELS;
  const threads = Math.min(staged ? NARROW_WORKGROUP : WIDE_WORKGROUP, limits.maxComputeInvocationsPerWorkgroup);
  const pixels = xShape[0] * xShape[1] * xShape[2];
  const chunks = divisors(d / 4, MAX_HIDDEN_CHUNK / 4).map((x) => 4 * x).reverse();
  // Measured (bench --sweep, H200): staging weight slices in workgroup memory pays off for narrow blocks
  // (C <= 128, 64-pixel tiles); wide blocks run faster unstaged with small tiles (less workgroup memory,
  // more resident workgroups, weights served by the L1/L2 caches).
  const maxTileChannels = staged ? 6144 : 3072;
  // Enough workgroups to spread over a large GPU when the batch is small.
  const maxTileForParallelism = Math.max(4, 2 ** Math.floor(Math.log2(Math.max(1, pixels / 128))));
  let smallestNeed = Infinity;
  for (const tilePixels of TILE_PIXELS) {
    const last = tilePixels === TILE_PIXELS[TILE_PIXELS.length - 1];
    if (!last && (tilePixels > maxTileForParallelism || tilePixels * c > maxTileChannels)) continue;
    const project = registerTile(tilePixels, c / 4, threads);
    if (!fitsRegisters(project, MAX_PROJECT_VEC4)) continue;
    for (const hiddenChunk of chunks) {
      const base = storageBytes(spec, tilePixels, hiddenChunk);
      const slices = staged ? chooseSlices(spec, hiddenChunk, limits.maxComputeWorkgroupStorageSize - base) : [0, 0];
      smallestNeed = Math.min(smallestNeed, base + (staged ? Math.min(4 * hiddenChunk, 4 * c) * 4 : 0));
      if (slices == null || base > limits.maxComputeWorkgroupStorageSize ||
          hiddenChunk < Math.min(MIN_HIDDEN_CHUNK, d)) continue;
      const expand = registerTile(tilePixels, hiddenChunk / 4, threads);
      if (!fitsRegisters(expand, MAX_EXPAND_VEC4)) continue;
      const [expandSlice, projectSlice] = slices;
      return { ok: true, tiling: { workgroupSize: threads, tilePixels, hiddenChunk, expand, project, expandSlice,
        projectSlice, storageBytes: storageBytes(spec, tilePixels, hiddenChunk, expandSlice, projectSlice),
        hiddenSplits: 1, unroll: staged ? NARROW_UNROLL : WIDE_UNROLL, prefetch: NARROW_PREFETCH,
        convStrip: rowStrip(xShape[2], tilePixels) } };
    }
  }
  if (smallestNeed === Infinity) {
    return { ok: false, reason: `C = ${c} needs more than ${MAX_PROJECT_VEC4 * 4} accumulators per thread ` +
      `with ${threads} threads per workgroup (maxComputeInvocationsPerWorkgroup ` +
      `${limits.maxComputeInvocationsPerWorkgroup})` };
  }
  return { ok: false, reason: `the smallest tile needs ${smallestNeed} bytes of workgroup memory, the adapter allows ` +
    `${limits.maxComputeWorkgroupStorageSize} (maxComputeWorkgroupStorageSize)` };
}
