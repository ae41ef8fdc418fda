/**
 * FusedPatchConv: a non-overlapping convolution (kernel size k == stride, VALID padding, dilation 1, NHWC),
 * the ConvNeXt / ConvFirstNet stem (4x4 stride 4) and downsample (2x2 stride 2) layers, optionally with the
 * LayerNorm over channels that precedes it (the downsample's) or follows it (the stem's) folded in:
 *
 *   c[n, i, j, o] = bias[o] + sum_{dy, dx, c} xn[n, i k + dy, j k + dx, c] filter[dy, dx, c, o]
 *   xn = preNorm ? (x - mean) * rsqrt(var + epsilon) * gamma + beta (over the last axis) : x
 *   y = postNorm ? (c - mean) * rsqrt(var + postEpsilon) * postGamma + postBeta (over the last axis) : c
 *
 * Output [N, floor(H / k), floor(W / k), Cout]; input rows / columns past the last whole patch are unused.
 */

/** Kernel name, also the GraphModel op name the converter writes. */
export const FUSED_PATCH_CONV = 'FusedPatchConv';

export interface PatchConvAttrs {
  /** A bias input follows the filter. */
  hasBias: boolean;
  /** gamma and beta inputs follow (after the bias, when present): LayerNorm of x before the conv. */
  preNorm: boolean;
  /** The LayerNorm's epsilon (finite, > 0); ignored without preNorm. */
  epsilon: number;
  /** postGamma and postBeta inputs follow (last): LayerNorm of the conv's output over Cout. */
  postNorm: boolean;
  /** The post-LayerNorm's epsilon (finite, > 0); ignored without postNorm. */
  postEpsilon: number;
}

/** Names of the kernel inputs, in the order the op passes them; which are present depends on the attrs. */
export function patchConvInputNames(attrs: Pick<PatchConvAttrs, 'hasBias' | 'preNorm' | 'postNorm'>): string[] {
  return ['x', 'filter', ...(attrs.hasBias ? ['bias'] : []), ...(attrs.preNorm ? ['gamma', 'beta'] : []),
    ...(attrs.postNorm ? ['postGamma', 'postBeta'] : [])];
}

/** Output spatial size of a patch conv of size k on an H x W input. */
export function patchConvOutputSize(h: number, w: number, k: number): [number, number] {
  return [Math.floor(h / k), Math.floor(w / k)];
}
