/**
 * Decides, per block call, whether the fused WebGPU kernel runs or the reference composition does, and
 * why: `explainKernel(...)` gives the same answer for given shapes without running anything.
 */
import { type Activation, isActivation } from '../../spec/activations.js';
import { DEFAULT_LAYER_NORM_EPSILON, isLayerNormEpsilon } from '../../spec/layer_norm.js';
import { type BlockSpec, type ConvFirstAttrs, type ConvNeXtAttrs, FUSED_CONVFIRST_BLOCK, FUSED_CONVNEXT_BLOCK,
  convfirstSpec, convnextSpec, specKey } from '../../spec/block_spec.js';
import { type BlockTiling, chooseConvTiling, chooseHiddenSplits, chooseTiling, fewestSplitsReaching, gemmMlpOverride,
  MIN_SLICE_HIDDEN, SPLIT_BELOW_TILES, TARGET_WORKGROUPS, type TilingLimits, tilingOverrideVersion } from './tiling.js';
import { chooseGemmTile, type GemmTile, gemmWorkgroups, projectSplitFits } from './mlp_gemm_wgsl.js';
import { limitsKey, planCache } from './plan_cache.js';

/** gemm-mlp's dispatches: the GEMM tiles, the project GEMM's reduction splits (1 = none) and the conv tiling. */
export interface GemmMlpTiles { expand: GemmTile; project: GemmTile; projectSplits: number; conv: BlockTiling }

export interface KernelExplanation {
  kernel: string;
  backend: 'webgpu';
  fused: boolean;
  /** Why the fused kernel runs (its tiling) or why the reference composition runs instead. */
  reason: string;
  spec: BlockSpec;
  limits: TilingLimits;
  tiling?: BlockTiling;
  /**
   * Fused only: 'plain' = one dispatch; 'split-hidden' = the hidden dimension split over S workgroups per
   * tile (tiling.hiddenSplits) when the plain kernel would launch too few workgroups, plus a summing dispatch;
   * 'gemm-mlp' = conv + norm written out (the plain kernel's first phases), then the MLP as two GEMMs with the
   * hidden tensor in device memory (large batch: mlp_gemm_wgsl.ts says why).
   */
  variant?: 'plain' | 'split-hidden' | 'gemm-mlp';
  /** 'gemm-mlp' only: the tiles of the expand and project GEMMs and the conv + norm dispatch's tiling. */
  gemm?: GemmMlpTiles;
  /** GPU dispatches per block call (plain 1, split-hidden 2, gemm-mlp 3 or 4 with split-K; after the one-time weight fold per weight set). */
  dispatches?: number;
  /** Workgroups of the (first) dispatch. */
  workgroups?: number;
}

const SUPPORTED_GROUP_WIDTHS = [1, 2, 4, 8, 16];

let limitsOverride: TilingLimits | null = null;

/**
 * Makes the kernels plan with these limits instead of the device's (clamped to the device's own): used to
 * run the small SwiftShader profile on a large adapter. Pass null to restore.
 */
export function setWebGPUTilingLimits(limits: TilingLimits | null): void {
  // A bad limit (-5, NaN, a string) would make every block fall back, with a reason that blames the adapter.
  if (limits !== null) checkLimits('setWebGPUTilingLimits', limits);
  limitsOverride = limits;
}

export function effectiveLimits(device: { limits: TilingLimits & { maxBufferSize?: number } }): TilingLimits {
  const own = device.limits;
  const o = limitsOverride;
  return {
    maxComputeWorkgroupStorageSize: Math.min(own.maxComputeWorkgroupStorageSize,
      o?.maxComputeWorkgroupStorageSize ?? Infinity),
    maxComputeInvocationsPerWorkgroup: Math.min(own.maxComputeInvocationsPerWorkgroup,
      o?.maxComputeInvocationsPerWorkgroup ?? Infinity),
    // A buffer past either limit fails validation (no bind group, no dispatch) and leaves the output unwritten.
    maxStorageBufferBindingSize: Math.min(own.maxStorageBufferBindingSize ?? Infinity, own.maxBufferSize ?? Infinity,
      o?.maxStorageBufferBindingSize ?? Infinity),
  };
}

/** Block plans, cached (plan_cache.ts) by kernel, spec, input shape, limits and the tiling override. */
const cachedBlockPlan = planCache<KernelExplanation>(1024);

export function planBlockCached(kernel: string, spec: BlockSpec, xShape: readonly number[],
  limits: TilingLimits): KernelExplanation {
  return cachedBlockPlan(`${kernel}|${specKey(spec)}|${xShape.join(',')}|${limitsKey(limits)}|${tilingOverrideVersion()}`,
    () => planBlock(kernel, spec, xShape, limits));
}

export function planBlock(kernel: string, spec: BlockSpec, xShape: readonly number[],
  limits: TilingLimits): KernelExplanation {
  const base = { kernel, backend: 'webgpu' as const, spec, limits };
  if (!SUPPORTED_GROUP_WIDTHS.includes(spec.groupWidth)) {
    return { ...base, fused: false, reason: `group width G = ${spec.groupWidth} is not one of ` +
      `${SUPPORTED_GROUP_WIDTHS.join(', ')}` };
  }
  const choice = chooseTiling(spec, xShape, limits);
  if (!choice.ok) return { ...base, fused: false, reason: choice.reason };
  const t = choice.tiling;
  const pixels = xShape[0] * xShape[1] * xShape[2];
  const tiles = Math.ceil(pixels / t.tilePixels);
  const layout = `${t.tilePixels}-pixel tiles, ${t.workgroupSize} threads, hidden chunks of ${t.hiddenChunk}, ` +
    `${t.storageBytes} of ${limits.maxComputeWorkgroupStorageSize} bytes of workgroup memory`;
  const gemmTiles = gemmMlpChoice(spec, pixels, limits);
  const gemmTooLarge = gemmTiles != null && 'tooLargeBytes' in gemmTiles ? ` (gemm-mlp's hidden tensor, ` +
    `${gemmTiles.tooLargeBytes} bytes, exceeds maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize})` : '';
  if (gemmTiles != null && !('tooLargeBytes' in gemmTiles)) {
    const gemm = { ...gemmTiles, conv: chooseConvTiling(spec, xShape, t, limits) };
    const tile = (g: GemmTile) => `${g.bm}x${g.bn}`;
    const splitNote = gemm.projectSplits > 1 ? `, its reduction split ${gemm.projectSplits} ways plus a summing dispatch` : '';
    return { ...base, fused: true, variant: 'gemm-mlp', tiling: { ...t, hiddenSplits: 1 }, gemm,
      dispatches: gemm.projectSplits > 1 ? 4 : 3,
      workgroups: tiles, reason: `fused gemm-mlp: ${pixels} pixels give the expand GEMM ${gemmWorkgroups('expand', spec, gemm.expand, pixels)} workgroups (>= ` +
        `${TARGET_WORKGROUPS}): conv + norm dispatch (${gemm.conv.tilePixels}-pixel tiles, ${gemm.conv.workgroupSize} ` +
        `threads, ${gemm.conv.convStrip}-pixel conv strips), then expand (${tile(gemm.expand)} tiles) and ` +
        `project (${tile(gemm.project)} tiles${splitNote}) GEMMs with the hidden tensor in device memory` };
  }
  if (t.hiddenSplits === 1) {
    return { ...base, fused: true, variant: 'plain', tiling: t, dispatches: 1, workgroups: tiles,
      reason: `fused: ${layout}; ${tiles} workgroups${gemmTooLarge}` + (tiles >= SPLIT_BELOW_TILES ? '' :
        chooseHiddenSplits(spec, tiles * t.tilePixels, t) > 1 ? ' (split-hidden disabled by a tiling override)' :
          ` (fewer than ${SPLIT_BELOW_TILES}, but D = ${spec.hidden} has no split into slices of >= ` +
          `${MIN_SLICE_HIDDEN} hidden channels)`) };
  }
  if (t.pairedSplit === true) {
    return { ...base, fused: true, variant: 'split-hidden', tiling: t, dispatches: 2, workgroups: tiles * t.hiddenSplits,
      reason: `fused split-hidden (paired)${gemmTooLarge}: ${t.tilePixels / 2}-pixel tiles would be 1-2 per SM ` +
        `(${Math.ceil(pixels / (t.tilePixels / 2))}), so ${t.tilePixels}-pixel tiles with D = ${spec.hidden} split into 2 ` +
        `slices: the same ${tiles * t.hiddenSplits} workgroups, each re-reading half the weights, plus a dispatch ` +
        `summing the partials; ${layout}` };
  }
  return { ...base, fused: true, variant: 'split-hidden', tiling: t, dispatches: 2, workgroups: tiles * t.hiddenSplits,
    reason: `fused split-hidden${gemmTooLarge}: ${tiles} tiles would launch fewer than ${SPLIT_BELOW_TILES} workgroups, so D = ` +
      `${spec.hidden} is split into ${t.hiddenSplits} slices of ${spec.hidden / t.hiddenSplits} ` +
      `(${tiles * t.hiddenSplits} workgroups, target ${TARGET_WORKGROUPS}) plus a dispatch summing the partials; ` +
      layout };
}

/**
 * The 'gemm-mlp' tiles when that variant runs: blocks whose expand GEMM fills the GPU (>= TARGET_WORKGROUPS
 * workgroups), i.e. every ConvNeXt-T stage at N=32 but none at N=1; or as forced by the tiling override. Measured
 * (H100 sweeps, BENCHMARKS.md "gemm-mlp variant"): with rowVec4 tiles and the 96-wide project tile, gemm-mlp
 * beats the one-dispatch kernel on the narrow 56x56x96 block too (0.62 vs 0.74 ms at N=32), not only on C > 128.
 */
function gemmMlpChoice(spec: BlockSpec, pixels: number, limits: TilingLimits):
  Omit<GemmMlpTiles, 'conv'> | { tooLargeBytes: number } | null {
  const { gemmMlp: forced, gemmExpand, gemmProject, gemmProjectSplits, gemmUnrolled } = gemmMlpOverride();
  if (forced === false) return null;
  const { maxComputeInvocationsPerWorkgroup: threads, maxComputeWorkgroupStorageSize: storage } = limits;
  const chosen = (stage: 'expand' | 'project', t?: GemmTile) => {
    const tile = chooseGemmTile(stage, spec, threads, storage, t, pixels);
    return tile == null || gemmUnrolled == null ? tile : { ...tile, unrolled: gemmUnrolled[stage] };
  };
  const expand = chosen('expand', gemmExpand);
  const project = chosen('project', gemmProject);
  if (expand == null || project == null) return null;
  const projectSplits = chooseProjectSplits(spec, project, pixels, gemmProjectSplits);
  if (forced !== true && gemmWorkgroups('expand', spec, expand, pixels) < TARGET_WORKGROUPS) return null;
  // Its hidden tensor [P, D] and split-K partials [S, P, C] must each fit one binding, even when forced.
  const largest = 4 * pixels * Math.max(spec.hidden, projectSplits > 1 ? projectSplits * spec.channels : 0);
  if (largest > (limits.maxStorageBufferBindingSize ?? Infinity)) return { tooLargeBytes: largest };
  return { expand, project, projectSplits };
}

/** Most reduction splits the rule picks for the project GEMM (H100 sweep: 2 and 4 equal at 7x7x768, 8 slower). */
const MAX_PROJECT_SPLITS = 4;

/**
 * The project GEMM's reduction splits: `forced` when it divides the reduction into whole tile steps; else, when
 * the project launches fewer than TARGET_WORKGROUPS workgroups (ConvNeXt-T 7x7x768 at N=32: 392 of 64 threads),
 * the fewest splits (<= MAX_PROJECT_SPLITS) that reach it; else 1. Measured (H100 sweep, BENCHMARKS.md
 * "Night pass"): 7x7x768 N=32 0.618 -> 0.531 ms with 2 splits; at 14x14x384 (784 workgroups) 2-8 splits
 * were 3-20% slower.
 */
function chooseProjectSplits(spec: BlockSpec, project: GemmTile, pixels: number, forced?: number): number {
  if (forced != null) return projectSplitFits(spec, project, forced) ? forced : 1;
  const workgroups = gemmWorkgroups('project', spec, project, pixels);
  if (workgroups >= TARGET_WORKGROUPS) return 1;
  const fitting = Array.from({ length: MAX_PROJECT_SPLITS - 1 }, (_, i) => i + 2)
    .filter((s) => projectSplitFits(spec, project, s));
  return fewestSplitsReaching(fitting, workgroups, TARGET_WORKGROUPS);
}

export interface ExplainShapes {
  x: readonly number[];
  /** ConvNeXt: dwFilter [k,k,C,1]; ConvFirst: filter [k,k,G,C]. */
  filter: readonly number[];
  w1: readonly number[];
  layerScale?: boolean;
}

const isDims = (s: unknown, rank: number): s is number[] =>
  Array.isArray(s) && s.length === rank && s.every((d) => Number.isInteger(d) && d > 0);

/** The checks the ops make on the same call, so a call the ops would refuse is not reported as one that runs fused. */
function checkExplainArguments(kernel: string, shapes: ExplainShapes, attrs: { activation?: unknown; epsilon?: unknown },
  limits: TilingLimits): void {
  const fail = (message: string): never => { throw new Error(`explainKernel: ${message}`); };
  if (kernel !== FUSED_CONVNEXT_BLOCK && kernel !== FUSED_CONVFIRST_BLOCK) {
    fail(`kernel must be '${FUSED_CONVNEXT_BLOCK}' or '${FUSED_CONVFIRST_BLOCK}', got ${JSON.stringify(kernel)}`);
  }
  if (shapes == null || typeof shapes !== 'object') fail('shapes must be { x, filter, w1, layerScale? }');
  const { x, filter, w1 } = shapes;
  if (!isDims(x, 4)) {
    fail(`shapes.x must be [N, H, W, C] of positive integers (an empty input runs no dispatch), got ${JSON.stringify(x)}`);
  }
  const c = x[3];
  if (!isDims(filter, 4) || filter[0] !== filter[1] || filter[0] % 2 !== 1) {
    fail(`shapes.filter must be [k, k, ${kernel === FUSED_CONVNEXT_BLOCK ? 'C, 1' : 'G, C'}] with k odd, got ${JSON.stringify(filter)}`);
  }
  const convnext = kernel === FUSED_CONVNEXT_BLOCK;
  if (convnext ? filter[2] !== c || filter[3] !== 1 : filter[3] !== c || c % filter[2] !== 0) {
    fail(`shapes.filter ${JSON.stringify(filter)} does not fit C = ${c} (${convnext ? '[k, k, C, 1]' : '[k, k, G, C], G dividing C'})`);
  }
  if (!isDims(w1, 2) || w1[0] !== c) fail(`shapes.w1 must be [C = ${c}, D], got ${JSON.stringify(w1)}`);
  if (attrs == null || typeof attrs !== 'object') fail('attrs must be an object (e.g. { activation })');
  if (attrs.activation != null && !isActivation(attrs.activation)) fail(`unknown activation ${JSON.stringify(attrs.activation)}`);
  if (attrs.epsilon != null && !isLayerNormEpsilon(attrs.epsilon)) {
    fail(`epsilon must be a number in float32's normal range (> 0), got ${attrs.epsilon}`);
  }
  checkLimits('explainKernel', limits);
}

/** Throws unless `limits` has positive integer workgroup storage and invocation limits. */
function checkLimits(what: string, limits: TilingLimits): void {
  const l = limits as Partial<TilingLimits> | null;
  for (const key of ['maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxStorageBufferBindingSize'] as const) {
    const v = l?.[key];
    if (key === 'maxStorageBufferBindingSize' && l != null && v === undefined) continue;
    if (!(Number.isInteger(v) && (v as number) > 0)) {
      throw new Error(`${what}: limits.${key} must be a positive integer (an adapter's limits, SWIFTSHADER_LIMITS or ` +
        `DATACENTER_LIMITS), got ${l == null ? l : v}`);
    }
  }
}

/**
 * Reports whether a block call with these shapes and attributes runs fused on WebGPU under `limits`
 * (an adapter's `limits`, or SWIFTSHADER_LIMITS / DATACENTER_LIMITS) and why, without running anything.
 */
export function explainKernel(kernel: typeof FUSED_CONVNEXT_BLOCK | typeof FUSED_CONVFIRST_BLOCK,
  shapes: ExplainShapes, attrs: Partial<ConvNeXtAttrs & ConvFirstAttrs> & { activation?: Activation },
  limits: TilingLimits): KernelExplanation {
  checkExplainArguments(kernel, shapes, attrs, limits);
  const activation = attrs.activation ?? (kernel === FUSED_CONVNEXT_BLOCK ? 'gelu' : 'silu');
  const spec = kernel === FUSED_CONVNEXT_BLOCK ?
    convnextSpec(shapes.x, shapes.w1, shapes.filter, { epsilon: attrs.epsilon ?? DEFAULT_LAYER_NORM_EPSILON, activation },
      shapes.layerScale ?? false) :
    convfirstSpec(shapes.x, shapes.w1, shapes.filter, { activation, residual: attrs.residual ?? true });
  return planBlock(kernel, spec, shapes.x, limits);
}

let last: KernelExplanation | null = null;
/** The decision of the most recent block call on the webgpu backend. */
export function lastKernelDecision(): KernelExplanation | null { return last; }
export function recordDecision(e: KernelExplanation): void { last = e; }
