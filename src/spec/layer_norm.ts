/**
 * FusedLayerNorm: y = (x - mean) * rsqrt(var + epsilon) * gamma + beta over the last axis of x (any rank),
 * with the two-pass moments of GraphBuilder.layerNorm: mean = sum(x) / C, var = sum((x - mean)^2) / C.
 */
export { FUSED_LAYER_NORM } from './block_spec.js';

/** Names of the kernel inputs, in the order the op passes them. */
export const LAYER_NORM_INPUTS = ['x', 'gamma', 'beta'] as const;

export interface LayerNormAttrs {
  /** Added to the variance; finite and > 0. */
  epsilon: number;
}

/** The default epsilon of the op (ConvNeXt's, as for convnextBlock). */
export const DEFAULT_LAYER_NORM_EPSILON = 1e-6;

/** A usable epsilon: finite and > 0 (with 0, a row whose values are all equal normalizes to 0 * rsqrt(0) = NaN). */
export function isLayerNormEpsilon(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}
