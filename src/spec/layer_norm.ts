/**
 * FusedLayerNorm: y = (x - mean) * rsqrt(var + epsilon) * gamma + beta over the last axis of x (any rank),
 * with the two-pass moments of GraphBuilder.layerNorm: mean = sum(x) / C, var = sum((x - mean)^2) / C.
 */
export { FUSED_LAYER_NORM } from './block_spec.js';

/** Names of the kernel inputs, in the order the op passes them. */
export const LAYER_NORM_INPUTS = ['x', 'gamma', 'beta'] as const;

export interface LayerNormAttrs {
  /** Added to the variance; a normal float32 > 0 (isLayerNormEpsilon). */
  epsilon: number;
}

/** The default epsilon of the op (ConvNeXt's, as for convnextBlock). */
export const DEFAULT_LAYER_NORM_EPSILON = 1e-6;

/** float32's smallest normal and largest finite values: the range an epsilon must keep once stored as f32. */
export const LAYER_NORM_EPSILON_MIN = 2 ** -126;
export const LAYER_NORM_EPSILON_MAX = 3.4028234663852886e38;

/**
 * A usable epsilon: > 0 once in float32 (with 0, a row whose values are all equal normalizes to 0 * rsqrt(0) = NaN;
 * GPUs flush subnormals to 0, so the smallest normal) and finite there (a larger literal does not compile as f32).
 */
export function isLayerNormEpsilon(value: unknown): value is number {
  return typeof value === 'number' && value >= LAYER_NORM_EPSILON_MIN && value <= LAYER_NORM_EPSILON_MAX;
}
