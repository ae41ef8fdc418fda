/**
 * FusedClassifierHead: the classifier head of ConvNeXt-class nets in one op. x [N, H, W, C] NHWC float32;
 *   p[n, c] = mean over h, w of x[n, h, w, c]                              (global average pool)
 *   z = (p - mean_c(p)) * rsqrt(var_c(p) + epsilon) * gamma + beta         (LayerNorm over C, biased variance)
 *   y[n, k] = sum_c z[n, c] * weight[c, k] + bias[k]                       (dense layer)
 * Output [N, K].
 */
export const FUSED_CLASSIFIER_HEAD = 'FusedClassifierHead';

/** Names of the kernel inputs, in the order the op passes them. */
export const CLASSIFIER_HEAD_INPUTS = ['x', 'gamma', 'beta', 'weight', 'bias'] as const;

export interface ClassifierHeadAttrs {
  /** Added to the variance of the pooled row; a normal float32 > 0 (isLayerNormEpsilon). */
  epsilon: number;
}
