/**
 * Decides, per block call, whether the fused WebGPU kernel runs or the reference composition does, and
 * why: `explainKernel(...)` gives the same answer for given shapes without running anything.
 */
import type { Activation } from '../../spec/activations.js';
import { type BlockSpec, type ConvFirstAttrs, type ConvNeXtAttrs, FUSED_CONVFIRST_BLOCK, FUSED_CONVNEXT_BLOCK,
  convfirstSpec, convnextSpec, specKey } from '../../spec/block_spec.js';
import { type BlockTiling, chooseHiddenSplits, chooseTiling, MIN_SLICE_HIDDEN, SPLIT_BELOW_TILES, TARGET_WORKGROUPS,
  type TilingLimits, tilingOverrideVersion } from './tiling.js';

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
   * tile (tiling.hiddenSplits) when the plain kernel would launch too few workgroups, plus a summing dispatch.
   */
  variant?: 'plain' | 'split-hidden';
  /** GPU dispatches per block call (plain 1, split-hidden 2; after the one-time weight fold per weight set). */
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
  limitsOverride = limits;
}

export function effectiveLimits(device: { limits: TilingLimits }): TilingLimits {
  const own = device.limits;
  const o = limitsOverride;
  return {
    maxComputeWorkgroupStorageSize: Math.min(own.maxComputeWorkgroupStorageSize,
      o?.maxComputeWorkgroupStorageSize ?? Infinity),
    maxComputeInvocationsPerWorkgroup: Math.min(own.maxComputeInvocationsPerWorkgroup,
      o?.maxComputeInvocationsPerWorkgroup ?? Infinity),
  };
}

/**
 * Plans are pure functions of these arguments and the tiling override, and a network calls the same few
 * shapes every inference: cached, so the kernel's CPU side costs a map lookup instead of a tiling search.
 */
const planCache = new Map<string, KernelExplanation>();
const PLAN_CACHE_LIMIT = 1024;

export function planBlockCached(kernel: string, spec: BlockSpec, xShape: readonly number[],
  limits: TilingLimits): KernelExplanation {
  const key = `${kernel}|${specKey(spec)}|${xShape.join(',')}|${limits.maxComputeWorkgroupStorageSize},` +
    `${limits.maxComputeInvocationsPerWorkgroup}|${tilingOverrideVersion()}`;
  let plan = planCache.get(key);
  if (plan == null) {
    if (planCache.size >= PLAN_CACHE_LIMIT) planCache.clear();
    plan = planBlock(kernel, spec, xShape, limits);
    planCache.set(key, plan);
  }
  return plan;
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
  const tiles = Math.ceil(xShape[0] * xShape[1] * xShape[2] / t.tilePixels);
  const layout = `${t.tilePixels}-pixel tiles, ${t.workgroupSize} threads, hidden chunks of ${t.hiddenChunk}, ` +
    `${t.storageBytes} of ${limits.maxComputeWorkgroupStorageSize} bytes of workgroup memory`;
  if (t.hiddenSplits === 1) {
    return { ...base, fused: true, variant: 'plain', tiling: t, dispatches: 1, workgroups: tiles,
      reason: `fused: ${layout}; ${tiles} workgroups` + (tiles >= SPLIT_BELOW_TILES ? '' :
        chooseHiddenSplits(spec, tiles * t.tilePixels, t) > 1 ? ' (split-hidden disabled by a tiling override)' :
          ` (fewer than ${SPLIT_BELOW_TILES}, but D = ${spec.hidden} has no split into slices of >= ` +
          `${MIN_SLICE_HIDDEN} hidden channels)`) };
  }
  return { ...base, fused: true, variant: 'split-hidden', tiling: t, dispatches: 2, workgroups: tiles * t.hiddenSplits,
    reason: `fused split-hidden: ${tiles} tiles would launch fewer than ${SPLIT_BELOW_TILES} workgroups, so D = ` +
      `${spec.hidden} is split into ${t.hiddenSplits} slices of ${spec.hidden / t.hiddenSplits} ` +
      `(${tiles * t.hiddenSplits} workgroups, target ${TARGET_WORKGROUPS}) plus a dispatch summing the partials; ` +
      layout };
}

export interface ExplainShapes {
  x: readonly number[];
  /** ConvNeXt: dwFilter [k,k,C,1]; ConvFirst: filter [k,k,G,C]. */
  filter: readonly number[];
  w1: readonly number[];
  layerScale?: boolean;
}

/**
 * Reports whether a block call with these shapes and attributes runs fused on WebGPU under `limits`
 * (an adapter's `limits`, or SWIFTSHADER_LIMITS / DATACENTER_LIMITS) and why, without running anything.
 */
export function explainKernel(kernel: typeof FUSED_CONVNEXT_BLOCK | typeof FUSED_CONVFIRST_BLOCK,
  shapes: ExplainShapes, attrs: Partial<ConvNeXtAttrs & ConvFirstAttrs> & { activation?: Activation },
  limits: TilingLimits): KernelExplanation {
  const activation = attrs.activation ?? (kernel === FUSED_CONVNEXT_BLOCK ? 'gelu' : 'silu');
  const spec = kernel === FUSED_CONVNEXT_BLOCK ?
    convnextSpec(shapes.x, shapes.w1, shapes.filter, { epsilon: attrs.epsilon ?? 1e-6, activation },
      shapes.layerScale ?? false) :
    convfirstSpec(shapes.x, shapes.w1, shapes.filter, { activation, residual: attrs.residual ?? true });
  return planBlock(kernel, spec, shapes.x, limits);
}

let last: KernelExplanation | null = null;
/** The decision of the most recent block call on the webgpu backend. */
export function lastKernelDecision(): KernelExplanation | null { return last; }
export function recordDecision(e: KernelExplanation): void { last = e; }
