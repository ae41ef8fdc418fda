/**
 * Classifier head op cases shared by the node suite (cpu, wasm, webgpu through Dawn) and karma (webgl, webgpu
 * in Chromium): odd shapes against an independent float64 oracle, tensor accounting, bad inputs, and on
 * webgpu one dispatch per call with a poisoned output, both limit profiles and the fallback.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { classifierHead } from '../../src/index.js';
import { lastClassifierHeadDecision, setClassifierHeadLanes, setPoisonFusedOutputs, setWebGPUTilingLimits }
  from '../../src/kernels/webgpu/index.js';
import type { TilingLimits } from '../../src/kernels/webgpu/tiling.js';
import { type BadInput, checkBadInputs } from './bad_inputs.js';
import { compare, type CaseResult, type WarmUp } from './block_cases.js';
import { Rng } from './random.js';
import { countPrograms, expectNoLeakedDataIds, programsPerCall } from './webgpu_fused.js';

export interface HeadCase { n: number; h: number; w: number; c: number; k: number }

export const headName = (t: HeadCase) => `N${t.n} ${t.h}x${t.w} C${t.c} K${t.k}`;

/** float64 head: mean over H, W; two-pass LayerNorm over C; dense + bias (plain loops, no library code). */
export function classifierHead64(x: Float32Array, t: HeadCase, gamma: Float32Array, beta: Float32Array,
  weight: Float32Array, bias: Float32Array, epsilon: number): Float64Array {
  const { n, c, k } = t;
  const hw = t.h * t.w;
  const out = new Float64Array(n * k);
  for (let b = 0; b < n; b++) {
    const p = new Float64Array(c);
    for (let q = 0; q < hw; q++) for (let i = 0; i < c; i++) p[i] += x[(b * hw + q) * c + i];
    for (let i = 0; i < c; i++) p[i] /= hw;
    let mean = 0;
    for (let i = 0; i < c; i++) mean += p[i];
    mean /= c;
    let variance = 0;
    for (let i = 0; i < c; i++) variance += (p[i] - mean) ** 2;
    variance /= c;
    const rstd = 1 / Math.sqrt(variance + epsilon);
    const z = p.map((v, i) => (v - mean) * rstd * gamma[i] + beta[i]);
    for (let j = 0; j < k; j++) {
      let s = bias[j];
      for (let i = 0; i < c; i++) s += z[i] * weight[i * k + j];
      out[b * k + j] = s;
    }
  }
  return out;
}

/**
 * C = 20, 36, 96 (scalar / vec4-free and vec4 K), K = 10, 13, 1000, N = 1, 3 (and 9: two row groups),
 * H, W = 1, 3, 7, plus one fresh random case.
 */
export function headCases(rng: Rng): HeadCase[] {
  return [
    { n: 1, h: 7, w: 7, c: 96, k: 1000 }, { n: 3, h: 3, w: 3, c: 20, k: 13 }, { n: 1, h: 1, w: 1, c: 36, k: 10 },
    { n: 3, h: 7, w: 3, c: 36, k: 1000 }, { n: 9, h: 1, w: 3, c: 96, k: 12 }, { n: 2, h: 2, w: 2, c: 20, k: 1030 },
    { n: rng.int(1, 5), h: rng.int(1, 4), w: rng.int(1, 4), c: rng.int(2, 100), k: rng.int(1, 300) },
  ];
}

/** Runs classifierHead on the active backend against float64; throws on mismatch or leaked tensors. */
export async function runHeadCase(t: HeadCase, seed: number, epsilon = 1e-6,
  warmUp?: WarmUp): Promise<CaseResult> {
  const label = `classifierHead ${headName(t)} eps ${epsilon} on ${tf.getBackend()} (seed ${seed})`;
  const rng = new Rng(seed);
  const { n, h, w, c, k } = t;
  // Channel offsets that differ per channel, so the pooled row has a mean and a spread for the LayerNorm.
  const offsets = rng.normals(c, 1, 0.5);
  const xs = rng.normals(n * h * w * c, 0.5).map((v, i) => v + offsets[i % c]);
  const gs = rng.normals(c, 0.5, 1);
  const bs = rng.normals(c, 0.1);
  const ws = rng.normals(c * k, 1 / Math.sqrt(c));
  const biases = rng.normals(k, 0.1);
  const before = tf.memory().numTensors;
  const inputs = [tf.tensor4d(xs, [n, h, w, c]), tf.tensor1d(gs), tf.tensor1d(bs), tf.tensor2d(ws, [c, k]),
    tf.tensor1d(biases)] as const;
  const run = () => classifierHead(...inputs, { epsilon });
  await warmUp?.(run);
  const y = run();
  const got = await y.data();
  if (y.shape.join() !== [n, k].join()) throw new Error(`${label}: output shape [${y.shape}]`);
  tf.dispose([...inputs, y]);
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) throw new Error(`${label}: leaked ${leaked} tensors`);
  // Pool (H W terms), the LayerNorm's moments (2 C) and the dense sum (C terms).
  return compare(got, classifierHead64(xs, t, gs, bs, ws, biases, epsilon), h * w + 3 * c + 2, label);
}

/** Bad inputs: [what, call, expected message]. The checks run before any kernel, on any backend. */
export function badHeadInputs(): BadInput[] {
  const x = () => tf.zeros([2, 3, 3, 8]);
  const ones = (...s: number[]) => tf.ones(s);
  const head = (o: Partial<Record<'x' | 'gamma' | 'beta' | 'weight' | 'bias', unknown>>, epsilon?: number) =>
    classifierHead((o.x ?? x()) as never, (o.gamma ?? ones(8)) as never, (o.beta ?? ones(8)) as never,
      (o.weight ?? ones(8, 5)) as never, (o.bias ?? ones(5)) as never, epsilon == null ? {} : { epsilon });
  return [
    ['rank-2 x', () => head({ x: tf.zeros([2, 8]) }), /classifierHead: x must have shape \[N, H, W, C\] = \[\?, \?, \?, \?\], got \[2, 8\]/],
    ['int32 x', () => head({ x: tf.zeros([2, 3, 3, 8], 'int32') }), /classifierHead: x must be float32, got int32/],
    ['empty spatial axes', () => head({ x: tf.zeros([2, 0, 3, 8]) }), /classifierHead: x must have H, W and C >= 1/],
    ['wrong gamma length', () => head({ gamma: ones(7) }), /classifierHead: gamma must have shape \[C\] = \[8\], got \[7\]/],
    ['wrong beta rank', () => head({ beta: ones(1, 8) }), /classifierHead: beta must have shape \[C\] = \[8\], got \[1, 8\]/],
    ['weight rows not C', () => head({ weight: ones(9, 5) }), /classifierHead: weight must have shape \[C, K\] = \[8, \?\], got \[9, 5\]/],
    ['weight rank 1', () => head({ weight: ones(8) }), /classifierHead: weight must have shape \[C, K\]/],
    ['bias not K', () => head({ bias: ones(4) }), /classifierHead: bias must have shape \[K\] = \[5\], got \[4\]/],
    ['int32 weight', () => head({ weight: tf.ones([8, 5], 'int32') }), /classifierHead: weight must be float32, got int32/],
    ['zero output columns', () => head({ weight: ones(8, 0), bias: ones(0) }), /classifierHead: weight must have K >= 1/],
    ['missing bias', () => classifierHead(x(), ones(8), ones(8), ones(8, 5), undefined as never), /classifierHead: bias is required/],
    ['epsilon 0', () => head({}, 0), /classifierHead: options\.epsilon must be a number in float32's normal range .*, got 0/],
    ['NaN epsilon', () => head({}, NaN), /classifierHead: options\.epsilon must be a number in float32's normal range .*, got NaN/],
    ['options not an object', () => classifierHead(tf.zeros([1, 2, 2, 8]), ones(8), ones(8), ones(8, 5), ones(5), true as never),
      /classifierHead: options must be an object, got true/],
    ['tensor-like gamma of the wrong length (freed on error)', () => head({ gamma: [1, 2, 3] }),
      /classifierHead: gamma must have shape \[C\] = \[8\], got \[3\]/],
  ];
}

export function checkBadHeadInputs(): void {
  checkBadInputs(badHeadInputs());
}

/**
 * webgpu: one program per call on each path (vec4 / scalar K, several row groups, several column slices, C summed
 * by 1 lane, by the plan's lanes and by 4 or 32 lanes per column), with a NaN-poisoned output, no leaked tensors
 * or backend data ids.
 */
export async function checkHeadDispatches(seed: number): Promise<void> {
  const backend = tf.backend() as WebGPUBackend;
  const before = tf.memory().numTensors;
  const dataIdsBefore = backend.numDataIds();
  const programs = countPrograms(backend);
  setPoisonFusedOutputs(true);
  const cases: [HeadCase, number | null][] = [
    [{ n: 3, h: 2, w: 3, c: 96, k: 1000 }, null], [{ n: 3, h: 2, w: 3, c: 96, k: 1000 }, 1],
    [{ n: 9, h: 1, w: 1, c: 20, k: 13 }, null], [{ n: 9, h: 1, w: 1, c: 20, k: 13 }, 4],
    [{ n: 1, h: 3, w: 3, c: 36, k: 1030 }, null], [{ n: 1, h: 3, w: 3, c: 36, k: 1030 }, 1],
    [{ n: 2, h: 1, w: 2, c: 44, k: 20 }, 32],
  ];
  try {
    for (const [t, lanes] of cases) {
      setClassifierHeadLanes(lanes);
      const rng = new Rng(seed);
      const inputs = [tf.tensor4d(rng.normals(t.n * t.h * t.w * t.c), [t.n, t.h, t.w, t.c]), tf.tensor1d(rng.normals(t.c)),
        tf.tensor1d(rng.normals(t.c)), tf.tensor2d(rng.normals(t.c * t.k), [t.c, t.k]), tf.tensor1d(rng.normals(t.k))] as const;
      const counts = await programsPerCall(programs, () => classifierHead(...inputs), 2);
      if (counts.join() !== '1,1') throw new Error(`${headName(t)} lanes ${lanes}: programs per call ${counts} (want 1, 1)`);
      if (!programs.keys.every((k) => k.startsWith('fusedClassifierHead'))) throw new Error(`programs ${programs.keys}`);
      tf.dispose([...inputs]);
      await runHeadCase(t, seed);
      const d = lastClassifierHeadDecision();
      if (d == null || !d.ok || (lanes != null && d.plan.lanes !== lanes)) {
        throw new Error(`${headName(t)}: expected the fused kernel with ${lanes ?? 'the plan\'s'} lanes, got ${JSON.stringify(d)}`);
      }
    }
  } finally {
    setClassifierHeadLanes(null);
    programs.restore();
    setPoisonFusedOutputs(false);
  }
  if (tf.memory().numTensors !== before) throw new Error(`leaked ${tf.memory().numTensors - before} tensors`);
  await expectNoLeakedDataIds(backend, dataIdsBefore);
}

/** webgpu under a limit profile: the fused kernel runs (plan within the limits) and matches float64. */
export async function runHeadWithLimits(t: HeadCase, limits: TilingLimits, seed: number): Promise<void> {
  setWebGPUTilingLimits(limits);
  try {
    await runHeadCase(t, seed);
  } finally {
    setWebGPUTilingLimits(null);
  }
  const d = lastClassifierHeadDecision();
  if (d == null || !d.ok) throw new Error(`${headName(t)}: expected the fused kernel, got ${JSON.stringify(d)}`);
  if (d.plan.storageBytes > limits.maxComputeWorkgroupStorageSize ||
    d.plan.workgroupSize > limits.maxComputeInvocationsPerWorkgroup) {
    throw new Error(`${headName(t)}: plan exceeds the limits: ${JSON.stringify(d.plan)}`);
  }
}

/** Workgroup memory too small for one pooled row: the reference runs, the reason names the limit, results hold. */
export async function checkHeadFallback(seed: number): Promise<void> {
  setWebGPUTilingLimits({ maxComputeWorkgroupStorageSize: 1024, maxComputeInvocationsPerWorkgroup: 256 });
  try {
    await runHeadCase({ n: 2, h: 3, w: 3, c: 96, k: 13 }, seed);
  } finally {
    setWebGPUTilingLimits(null);
  }
  const d = lastClassifierHeadDecision();
  if (d == null || d.ok || !/maxComputeWorkgroupStorageSize/.test(d.reason)) {
    throw new Error(`expected a fallback naming maxComputeWorkgroupStorageSize, got ${JSON.stringify(d)}`);
  }
}
