/**
 * Independent float64 implementations of both blocks in plain loops (NHWC, row-major). They share no code
 * with the library: they are the oracle every backend is compared with.
 */
export type Act = 'gelu' | 'gelu_tanh' | 'silu' | 'relu' | 'relu6';

/** erf in float64: Taylor series below 3, continued fraction for erfc above. */
export function erf64(x: number): number {
  const a = Math.abs(x);
  if (a < 3) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (a + f);
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f);
  return Math.sign(x) * (1 - erfc);
}

export function act64(v: number, act: Act): number {
  switch (act) {
    case 'gelu': return 0.5 * v * (1 + erf64(v / Math.SQRT2));
    case 'gelu_tanh': return 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
    case 'silu': return v / (1 + Math.exp(-v));
    case 'relu': return Math.max(0, v);
    case 'relu6': return Math.min(6, Math.max(0, v));
  }
}

export interface Shape4 { n: number; h: number; w: number; c: number }

/** Grouped k x k conv, stride 1, same padding; filter [k,k,G,C]; G = 1 is depthwise. */
export function groupedConv64(x: ArrayLike<number>, s: Shape4, filter: ArrayLike<number>, k: number, g: number,
  bias: ArrayLike<number>): Float64Array {
  const { n, h, w, c } = s;
  const out = new Float64Array(n * h * w * c);
  const p = (k - 1) / 2;
  for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let o = 0; o < c; o++) {
    const grp = Math.floor(o / g);
    let acc = bias[o];
    for (let ky = 0; ky < k; ky++) {
      const iy = y + ky - p;
      if (iy < 0 || iy >= h) continue;
      for (let kx = 0; kx < k; kx++) {
        const ix = xx + kx - p;
        if (ix < 0 || ix >= w) continue;
        for (let i = 0; i < g; i++) {
          acc += x[((b * h + iy) * w + ix) * c + grp * g + i] * filter[((ky * k + kx) * g + i) * c + o];
        }
      }
    }
    out[((b * h + y) * w + xx) * c + o] = acc;
  }
  return out;
}

/** Per-pixel MLP: out[p] = W2^T act(W1^T in[p] + b1) + b2. */
export function mlp64(inp: Float64Array, pixels: number, c: number, d: number, w1: ArrayLike<number>,
  b1: ArrayLike<number>, w2: ArrayLike<number>, b2: ArrayLike<number>, act: Act): Float64Array {
  const out = new Float64Array(pixels * c);
  const hid = new Float64Array(d);
  for (let p = 0; p < pixels; p++) {
    for (let j = 0; j < d; j++) {
      let a = b1[j];
      for (let i = 0; i < c; i++) a += inp[p * c + i] * w1[i * d + j];
      hid[j] = act64(a, act);
    }
    for (let o = 0; o < c; o++) {
      let a = b2[o];
      for (let j = 0; j < d; j++) a += hid[j] * w2[j * c + o];
      out[p * c + o] = a;
    }
  }
  return out;
}

export interface ConvNeXtWeights64 {
  dwFilter: Float32Array; dwBias: Float32Array; lnGamma: Float32Array; lnBeta: Float32Array;
  w1: Float32Array; b1: Float32Array; w2: Float32Array; b2: Float32Array; layerScale?: Float32Array;
}

export function convnext64(x: Float32Array, s: Shape4, k: number, d: number, wt: ConvNeXtWeights64, eps: number,
  act: Act): Float64Array {
  const { c } = s;
  const pixels = s.n * s.h * s.w;
  const dw = groupedConv64(x, s, wt.dwFilter, k, 1, wt.dwBias);
  for (let p = 0; p < pixels; p++) {
    let mean = 0;
    for (let i = 0; i < c; i++) mean += dw[p * c + i];
    mean /= c;
    let v = 0;
    for (let i = 0; i < c; i++) v += (dw[p * c + i] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / c + eps);
    for (let i = 0; i < c; i++) dw[p * c + i] = (dw[p * c + i] - mean) * inv * wt.lnGamma[i] + wt.lnBeta[i];
  }
  const br = mlp64(dw, pixels, c, d, wt.w1, wt.b1, wt.w2, wt.b2, act);
  for (let i = 0; i < br.length; i++) br[i] = x[i] + br[i] * (wt.layerScale ? wt.layerScale[i % c] : 1);
  return br;
}

export interface ConvFirstWeights64 {
  filter: Float32Array; bias: Float32Array; w1: Float32Array; b1: Float32Array; w2: Float32Array; b2: Float32Array;
}

export function convfirst64(x: Float32Array, s: Shape4, k: number, g: number, d: number, wt: ConvFirstWeights64,
  act: Act, residual: boolean): Float64Array {
  const conv = groupedConv64(x, s, wt.filter, k, g, wt.bias);
  const br = mlp64(conv, s.n * s.h * s.w, s.c, d, wt.w1, wt.b1, wt.w2, wt.b2, act);
  if (residual) for (let i = 0; i < br.length; i++) br[i] += x[i];
  return br;
}
