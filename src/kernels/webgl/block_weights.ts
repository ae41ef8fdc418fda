/**
 * Once-per-weight-set folding for the WebGL passes (float64, then rounded once to float32):
 *   ConvNeXt: w1' = diag(gamma) w1, b1' = b1 + beta w1, colsum(w1') for the folded LayerNorm;
 *             w2' = w2 diag(ls), b2' = b2 * ls.
 *   ConvFirst: weights as given (BatchNorm is folded by the caller).
 * 1x1 weights are stored transposed (w^T [Cout, Cin]) for the pointwise pass.
 * Filters keep their values: [k, k, G, C] read as [k*k*G, C] is already the conv pass's layout.
 */
import type { PreparedTensor } from './weight_cache.js';

/** w [rows, cols] -> w^T [cols, rows]: the pointwise pass reads each output's weights as a texture row. */
function transposed(w: Float32Array, rows: number, cols: number): PreparedTensor {
  const t = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = w[i * cols + j];
  return { shape: [cols, rows], values: t };
}

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
    w1: transposed(w1f, c, d), aux1: aux(b1f, colsum),
    w2: transposed(w2f, d, c), aux2: aux(b2f, null),
  };
}

export function prepareConvFirst(k: number, g: number, c: number, d: number,
  [filter, bias, w1, b1, w2, b2]: Float32Array[]): Record<string, PreparedTensor> {
  return {
    filter: { shape: [k * k * g, c], values: filter.slice() }, convBias: { shape: [1, c], values: bias.slice() },
    w1: transposed(w1, c, d), aux1: aux(b1, null),
    w2: transposed(w2, d, c), aux2: aux(b2, null),
  };
}
