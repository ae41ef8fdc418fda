/**
 * LayerNorm op cases shared by the node suite (cpu, wasm, webgpu through Dawn) and karma (webgl, webgpu in
 * Chromium): odd shapes against an independent float64 oracle, tensor accounting, bad inputs, and on webgpu
 * one dispatch per call with a poisoned output.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type BadInput, checkBadInputs } from './bad_inputs.js';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { layerNorm } from '../../src/index.js';
import { setPoisonFusedOutputs } from '../../src/kernels/webgpu/index.js';
import { compare, type CaseResult, type WarmUp } from './block_cases.js';
import { Rng } from './random.js';
import { countPrograms, expectNoLeakedDataIds, programsPerCall } from './webgpu_fused.js';

/** float64 LayerNorm over the last axis, two-pass moments (plain loops, no library code). */
export function layerNorm64(x: ArrayLike<number>, c: number, gamma: Float32Array, beta: Float32Array,
  epsilon: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / c; r++) {
    let mean = 0;
    for (let i = 0; i < c; i++) mean += x[r * c + i];
    mean /= c;
    let variance = 0;
    for (let i = 0; i < c; i++) variance += (x[r * c + i] - mean) ** 2;
    variance /= c;
    const rstd = 1 / Math.sqrt(variance + epsilon);
    for (let i = 0; i < c; i++) out[r * c + i] = (x[r * c + i] - mean) * rstd * gamma[i] + beta[i];
  }
  return out;
}

/**
 * Shapes of rank 1..4 with C from 1 to 4100: scalar (C % 4 != 0) and vec4 paths, rows not multiples of any
 * rows-per-workgroup, 1 to 256 threads per row (C = 4100 is 1025 vec4s), plus one fresh random shape.
 */
export function layerNormShapes(rng: Rng): number[][] {
  const rank = rng.int(2, 4);
  const random = [...Array.from({ length: rank - 1 }, () => rng.int(1, 5)), rng.int(1, 800)];
  return [[37], [5, 1], [3, 7], [130, 6], [2, 5, 96], [7, 3, 13], [2, 3, 5, 20], [1, 3, 3, 800], [2, 2, 2, 771],
    [2, 4100], [2, 1, 3, 2, 9], [1, 2, 1, 2, 3, 6], random];
}

/** Runs layerNorm on the active backend against float64; throws on mismatch or leaked tensors. */
export async function runLayerNormCase(shape: number[], seed: number, epsilon = 1e-6,
  warmUp?: WarmUp): Promise<CaseResult> {
  const label = `layerNorm [${shape.join(', ')}] eps ${epsilon} on ${tf.getBackend()} (seed ${seed})`;
  const rng = new Rng(seed);
  const c = shape[shape.length - 1];
  const size = shape.reduce((a, b) => a * b, 1);
  // An offset mean and a scale far from 1 make both moments matter.
  const xs = rng.normals(size, 1.5, 0.3);
  const gs = rng.normals(c, 0.5, 1);
  const bs = rng.normals(c, 0.1);
  const before = tf.memory().numTensors;
  const [x, gamma, beta] = [tf.tensor(xs, shape), tf.tensor1d(gs), tf.tensor1d(bs)];
  const run = () => layerNorm(x, gamma, beta, { epsilon });
  await warmUp?.(run);
  const y = run();
  const got = await y.data();
  if (y.shape.join() !== shape.join()) throw new Error(`${label}: output shape [${y.shape}]`);
  tf.dispose([x, gamma, beta, y]);
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) throw new Error(`${label}: leaked ${leaked} tensors`);
  // Both moments are sums over C values (depth 2C). On random data their rounding grows like sqrt(depth), and
  // a bound linear in 2C would be loose enough at C = 4100 to hide one value dropped from a sum.
  return compare(got, layerNorm64(xs, c, gs, bs, epsilon), Math.sqrt(2 * c) + 2, label);
}

/** Bad inputs: [what, call, expected message]. The checks run before any kernel, on any backend. */
export function badLayerNormInputs(): BadInput[] {
  const x = () => tf.zeros([2, 3, 8]);
  const ones = (n: number) => tf.ones([n]);
  return [
    ['wrong gamma length', () => layerNorm(x(), ones(7), ones(8)), /layerNorm: gamma must have shape \[C\] = \[8\], got \[7\]/],
    ['wrong beta rank', () => layerNorm(x(), ones(8), tf.ones([1, 8])), /layerNorm: beta must have shape \[C\] = \[8\], got \[1, 8\]/],
    ['int32 x', () => layerNorm(tf.zeros([2, 8], 'int32'), ones(8), ones(8)), /layerNorm: x must be float32, got int32/],
    ['int32 gamma', () => layerNorm(x(), tf.ones([8], 'int32'), ones(8)), /layerNorm: gamma must be float32, got int32/],
    ['scalar x', () => layerNorm(tf.scalar(1), ones(1), ones(1)), /layerNorm: x must have rank >= 1/],
    ['empty last axis', () => layerNorm(tf.zeros([2, 0]), ones(0), ones(0)), /layerNorm: x's last axis .* must not be empty/],
    ['epsilon 0', () => layerNorm(x(), ones(8), ones(8), { epsilon: 0 }), /layerNorm: options\.epsilon must be a number in float32's normal range .*, got 0/],
    ['negative epsilon', () => layerNorm(x(), ones(8), ones(8), { epsilon: -1e-5 }), /options\.epsilon .* got -0\.00001/],
    ['NaN epsilon', () => layerNorm(x(), ones(8), ones(8), { epsilon: NaN }), /options\.epsilon must be a number in float32's normal range .*, got NaN/],
    ['missing beta', () => layerNorm(x(), ones(8), undefined as never), /layerNorm: beta is required/],
    ['options not an object', () => layerNorm(x(), ones(8), ones(8), 'eps' as never), /layerNorm: options must be an object, got "eps"/],
    ['tensor-like gamma of the wrong length (freed on error)', () => layerNorm(x(), [1, 2, 3], [0, 0, 0]),
      /layerNorm: gamma must have shape \[C\] = \[8\], got \[3\]/],
  ];
}

/** Each bad input throws its message, and nothing the op made survives (inputs are made inside tidy). */
export function checkBadLayerNormInputs(): void {
  checkBadInputs(badLayerNormInputs());
}

/**
 * webgpu: one program per call for the vec4 and the scalar path and a many-thread row, with a NaN-poisoned
 * output (an unwritten element fails the float64 comparison), no leaked tensors or backend data ids.
 */
export async function checkLayerNormDispatches(seed: number): Promise<void> {
  const backend = tf.backend() as WebGPUBackend;
  const before = tf.memory().numTensors;
  const dataIdsBefore = backend.numDataIds();
  const programs = countPrograms(backend);
  setPoisonFusedOutputs(true);
  try {
    for (const shape of [[3, 5, 96], [4, 7, 13], [2, 1030]]) {
      const rng = new Rng(seed);
      const x = tf.tensor(rng.normals(shape.reduce((a, b) => a * b, 1)), shape);
      const c = shape[shape.length - 1];
      const [gamma, beta] = [tf.tensor1d(rng.normals(c)), tf.tensor1d(rng.normals(c))];
      const counts = await programsPerCall(programs, () => layerNorm(x, gamma, beta), 2);
      if (counts.join() !== '1,1') throw new Error(`[${shape}]: programs per call ${counts} (want 1, 1)`);
      tf.dispose([x, gamma, beta]);
      await runLayerNormCase(shape, seed);
    }
  } finally {
    programs.restore();
    setPoisonFusedOutputs(false);
  }
  if (tf.memory().numTensors !== before) throw new Error(`leaked ${tf.memory().numTensors - before} tensors`);
  await expectNoLeakedDataIds(backend, dataIdsBefore);
}
