/**
 * LayerNorm rows whose values are all equal (variance 0): every op must give exactly beta there (a sum divided by C,
 * rounded and on GPUs taken as a reciprocal, leaves the mean an ulp off the value; the deviations, times
 * rsqrt(epsilon), become up to +-gamma). Each op runs once with rows of several magnitudes against float64, which
 * gives beta exactly. Shared by the node suite (cpu, wasm, webgpu) and karma (webgl, webgpu).
 */
import * as tf from '@tensorflow/tfjs-core';
import { classifierHead, convnextBlock, layerNorm, patchConv } from '../../src/index.js';
import { tolerance } from './block_cases.js';
import { classifierHead64 } from './classifier_head_cases.js';
import { layerNorm64 } from './layer_norm_cases.js';
import { patchConv64 } from './patch_conv_cases.js';
import { convnext64 } from './reference64.js';
import { Rng } from './random.js';

/** Row values whose sums do not divide back exactly (0.1 in C 3, 3 in C 7, 1e18 in C 96, -71234.56 in C 96 on webgl). */
const VALUES = [0.1, 0.7, 3, -71234.56, 1e18, -2.5e-3, 1e4 + 0.37];

/** Channel counts: scalar (C % 4 != 0) and vec4 paths, and those the failures above were seen at. */
export const CONSTANT_ROW_CHANNELS = [3, 7, 12, 96];
/** The default epsilon and a small one (the deviations' error is multiplied by rsqrt(epsilon)). */
export const CONSTANT_ROW_EPSILONS = [1e-6, 1e-12];

/** `count` values cycling through VALUES from `start` (float32). */
function values(count: number, start = 0): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => VALUES[(start + i) % VALUES.length]);
}

/** Every element within the float32 tolerance of its own magnitude (the rows span 1e-3 to 1e18). */
function expectClose(got: ArrayLike<number>, want: Float64Array, depth: number, label: string): void {
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    if (!(e <= tolerance(depth, Math.abs(want[i])))) {
      throw new Error(`${label} on ${tf.getBackend()}: flat index ${i} is ${got[i]}, want ${want[i]} (error ${e})`);
    }
  }
}

/** Runs `op`, reads its output and checks that no tensor leaked (the inputs are made and freed inside). */
async function run(label: string, make: () => tf.Tensor[], op: (t: tf.Tensor[]) => tf.Tensor): Promise<Float32Array> {
  const before = tf.memory().numTensors;
  const inputs = make();
  const y = op(inputs);
  const got = await y.data() as Float32Array;
  tf.dispose([y, ...inputs]);
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) throw new Error(`${label} on ${tf.getBackend()}: leaked ${leaked} tensors`);
  return got;
}

export async function checkConstantRowsLayerNorm(c: number, epsilon: number, seed: number): Promise<void> {
  const rng = new Rng(seed);
  const rows = VALUES.length;
  const x = new Float32Array(rows * c);
  for (let r = 0; r < rows; r++) x.fill(VALUES[r], r * c, (r + 1) * c);
  const gamma = rng.normals(c, 0.5, 1);
  const beta = rng.normals(c, 0.3);
  const got = await run('layerNorm', () => [tf.tensor2d(x, [rows, c]), tf.tensor1d(gamma), tf.tensor1d(beta)],
    ([xt, g, b]) => layerNorm(xt, g, b, { epsilon }));
  expectClose(got, layerNorm64(x, c, gamma, beta, epsilon), c, `layerNorm C ${c} eps ${epsilon}`);
}

export async function checkConstantRowsClassifierHead(c: number, epsilon: number, seed: number): Promise<void> {
  const rng = new Rng(seed);
  const t = { n: VALUES.length, h: 2, w: 1, c, k: 5 };
  // Image n: both pixels hold VALUES[n] in every channel, so its pooled row is constant.
  const x = new Float32Array(t.n * t.h * t.w * c);
  for (let n = 0; n < t.n; n++) x.fill(VALUES[n], n * 2 * c, (n + 1) * 2 * c);
  const gamma = rng.normals(c, 0.5, 1);
  const beta = rng.normals(c, 0.3);
  const weight = rng.normals(c * t.k, 0.3);
  const bias = rng.normals(t.k, 0.1);
  const got = await run('classifierHead', () => [tf.tensor4d(x, [t.n, t.h, t.w, c]), tf.tensor1d(gamma), tf.tensor1d(beta),
    tf.tensor2d(weight, [c, t.k]), tf.tensor1d(bias)], ([xt, g, b, w, bb]) => classifierHead(xt, g, b, w, bb, { epsilon }));
  expectClose(got, classifierHead64(x, t, gamma, beta, weight, bias, epsilon), c, `classifierHead C ${c} eps ${epsilon}`);
}

/** patchConv with preNorm (pixels constant over Cin, k 2) and with postNorm over Cout = c. */
export async function checkConstantRowsPatchConv(c: number, epsilon: number, seed: number): Promise<void> {
  await checkConstantRowsPreNorm(c, 8, epsilon, seed);
  await checkConstantRowsPostNorm(c, epsilon, seed);
}

/** patchConv with preNorm: 2x2 patches of pixels constant over Cin, `cout` outputs. */
export async function checkConstantRowsPreNorm(cin: number, cout: number, epsilon: number, seed: number): Promise<void> {
  const rng = new Rng(seed);
  const pc = { n: 1, h: 4, w: 4, cin, cout, k: 2, preNorm: true, bias: true };
  const pixels = pc.h * pc.w;
  const pv = values(pixels);
  const x = new Float32Array(pixels * cin);
  for (let p = 0; p < pixels; p++) x.fill(pv[p], p * cin, (p + 1) * cin);
  const filter = rng.normals(4 * cin * cout, 0.3);
  const bias = rng.normals(cout, 0.1);
  const gamma = rng.normals(cin, 0.5, 1);
  const beta = rng.normals(cin, 0.3);
  const got = await run('patchConv preNorm', () => [tf.tensor4d(x, [1, pc.h, pc.w, cin]), tf.tensor4d(filter, [2, 2, cin, cout]),
    tf.tensor1d(bias), tf.tensor1d(gamma), tf.tensor1d(beta)],
  ([xt, f, b, g, be]) => patchConv(xt, f, b, { preNorm: { gamma: g, beta: be, epsilon } }));
  expectClose(got, patchConv64(x, pc, filter, bias, { gamma, beta, epsilon }), 4 * cin, `patchConv preNorm Cin ${cin} eps ${epsilon}`);
}

/**
 * patchConv with postNorm over Cout: 2x2 patches of 8 channels, the filter equal across output channels, so each output
 * pixel is constant over Cout (the pixels' first channels hold the row values, the others 0).
 */
export async function checkConstantRowsPostNorm(cout: number, epsilon: number, seed: number): Promise<void> {
  const rng = new Rng(seed);
  const post = { n: 1, h: 4, w: 8, cin: 8, cout, k: 2, preNorm: false, bias: true };
  const inputPixels = post.h * post.w;
  const px = new Float32Array(inputPixels * post.cin);
  for (let p = 0; p < inputPixels; p++) px[post.cin * p] = values(1, p)[0];
  const depth = post.k * post.k * post.cin;
  const column = rng.normals(depth);
  const pf = Float32Array.from({ length: depth * cout }, (_, i) => column[Math.floor(i / cout)]);
  const pb = new Float32Array(cout).fill(0.25);
  const pg = rng.normals(cout, 0.5, 1);
  const pbeta = rng.normals(cout, 0.3);
  const got = await run('patchConv postNorm', () => [tf.tensor4d(px, [1, post.h, post.w, post.cin]),
    tf.tensor4d(pf, [post.k, post.k, post.cin, cout]), tf.tensor1d(pb), tf.tensor1d(pg), tf.tensor1d(pbeta)],
  ([xt, f, b, g, be]) => patchConv(xt, f, b, { postNorm: { gamma: g, beta: be, epsilon } }));
  // Each output pixel's LayerNorm is beta: the float64 conv's row is constant too, but not float32-representable, and
  // float64's own mean of it is an ulp off (the deviations of 1e18-sized values are then ~100).
  const want = Float64Array.from({ length: post.h / 2 * post.w / 2 * cout }, (_, i) => pbeta[i % cout]);
  expectClose(got, want, depth, `patchConv postNorm Cout ${cout} eps ${epsilon}`);
}

/** convnextBlock whose depthwise conv passes x through (centre tap 1) and x's pixels are constant over channels. */
export async function checkConstantRowsConvNeXt(c: number, epsilon: number, seed: number): Promise<void> {
  const rng = new Rng(seed);
  const s = { n: 1, h: 3, w: 4, c };
  const d = 2 * c;
  const k = 3;
  const pixels = s.h * s.w;
  const pv = values(pixels, 2);
  const x = new Float32Array(pixels * c);
  for (let p = 0; p < pixels; p++) x.fill(pv[p], p * c, (p + 1) * c);
  const dwFilter = new Float32Array(k * k * c);
  dwFilter.fill(1, 4 * c, 5 * c);
  const w = { dwFilter, dwBias: new Float32Array(c), lnGamma: rng.normals(c, 0.5, 1), lnBeta: rng.normals(c, 0.3),
    w1: rng.normals(c * d, 1 / Math.sqrt(c)), b1: rng.normals(d, 0.1), w2: rng.normals(d * c, 1 / Math.sqrt(d)), b2: rng.normals(c, 0.1),
    layerScale: rng.normals(c, 0.5) };
  const got = await run('convnextBlock', () => [tf.tensor4d(x, [1, s.h, s.w, c]), tf.tensor4d(w.dwFilter, [k, k, c, 1]),
    tf.tensor1d(w.dwBias), tf.tensor1d(w.lnGamma), tf.tensor1d(w.lnBeta), tf.tensor2d(w.w1, [c, d]), tf.tensor1d(w.b1),
    tf.tensor2d(w.w2, [d, c]), tf.tensor1d(w.b2), tf.tensor1d(w.layerScale)],
  ([xt, dwF, dwB, lg, lb, w1, b1, w2, b2, ls]) => convnextBlock(xt as tf.Tensor4D,
    { dwFilter: dwF, dwBias: dwB, lnGamma: lg, lnBeta: lb, w1, b1, w2, b2, layerScale: ls }, { epsilon, activation: 'gelu' }));
  expectClose(got, convnext64(x, s, k, d, w, epsilon, 'gelu'), c + d, `convnextBlock C ${c} eps ${epsilon}`);
}

/** Every op, every C and epsilon above. */
export async function checkConstantRows(seed: number): Promise<void> {
  for (const c of CONSTANT_ROW_CHANNELS) {
    for (const epsilon of CONSTANT_ROW_EPSILONS) {
      await checkConstantRowsLayerNorm(c, epsilon, seed);
      await checkConstantRowsClassifierHead(c, epsilon, seed);
      await checkConstantRowsPatchConv(c, epsilon, seed);
      await checkConstantRowsConvNeXt(c, epsilon, seed);
    }
  }
}
