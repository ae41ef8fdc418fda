/**
 * Once-per-weight-set folding for the WebGL passes (float64, then rounded once to float32):
 *   ConvNeXt: w1' = diag(gamma) w1, b1' = b1 + beta w1, colsum(w1') for the folded LayerNorm;
 *             w2' = w2 diag(ls), b2' = b2 * ls.
 *   ConvFirst: weights as given (BatchNorm is folded by the caller).
 * Filters keep their values: [k, k, G, C] read as [k*k*G, C] is already the conv pass's layout.
 */
import type { PreparedTensor } from './weight_cache.js';

/** aux [2, n]: row 0 = bias, row 1 = column sums (or zeros). */
function aux(bias: Float64Array | Float32Array, colsum: Float64Array | null): PreparedTensor {
  const n = bias.length;
  const values = new Float32Array(2 * n);
  values.set(bias, 0);
  if (colsum != null) values.set(colsum, n);
  return { shape: [2, n], values };
}

export function prepareConvNeXt(k: number, c: number, d: number,
  [dwFilter, dwBias, gamma, beta, w1, b1, w2, b2, layerScale]: Float32Array[]): Record<string, PreparedTensor> {
  const w1f = new Float32Array(c * d);
  const colsum = new Float64Array(d);
  const b1f = Float64Array.from(b1);
  for (let i = 0; i < c; i++) {
    for (let j = 0; j < d; j++) {
      const v = w1[i * d + j];
      w1f[i * d + j] = gamma[i] * v;
      colsum[j] += w1f[i * d + j];
      b1f[j] += beta[i] * v;
    }
  }
  const ls = layerScale ?? new Float32Array(c).fill(1);
  const w2f = new Float32Array(d * c);
  for (let j = 0; j < d; j++) for (let i = 0; i < c; i++) w2f[j * c + i] = w2[j * c + i] * ls[i];
  const b2f = Float64Array.from(b2, (v, i) => v * ls[i]);
  return {
    filter: { shape: [k * k, c], values: dwFilter.slice() }, convBias: { shape: [1, c], values: dwBias.slice() },
    w1: { shape: [c, d], values: w1f }, aux1: aux(b1f, colsum),
    w2: { shape: [d, c], values: w2f }, aux2: aux(b2f, null),
  };
}

export function prepareConvFirst(k: number, g: number, c: number, d: number,
  [filter, bias, w1, b1, w2, b2]: Float32Array[]): Record<string, PreparedTensor> {
  return {
    filter: { shape: [k * k * g, c], values: filter.slice() }, convBias: { shape: [1, c], values: bias.slice() },
    w1: { shape: [c, d], values: w1.slice() }, aux1: aux(b1, null),
    w2: { shape: [d, c], values: w2.slice() }, aux2: aux(b2, null),
  };
}
