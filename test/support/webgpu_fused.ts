/**
 * Checks of the fused WebGPU block kernels shared by the karma spec (Chromium's SwiftShader adapter) and
 * the node suite (Dawn on SwiftShader): cases beyond the foundation matrix, forced tilings of both limit
 * profiles, dispatch counting, the weight cache's lifetime and the fallback path.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { convnextBlock, FUSED_CONVFIRST_BLOCK, FUSED_CONVNEXT_BLOCK, lastKernelDecision } from '../../src/index.js';
import { chooseTiling, clearWebGPUWeightCache, DATACENTER_LIMITS, setPoisonFusedOutputs, setTilingOverride,
  setWebGPUTilingLimits, SWIFTSHADER_LIMITS, type TilingLimits, type TilingOverride, webgpuWeightCacheStats }
  from '../../src/kernels/webgpu/index.js';
import { convfirstSpec, convnextSpec } from '../../src/spec/block_spec.js';
import type { Graph } from '../../src/converter/ir.js';
import { type BlockCase, caseName, runBlockCase } from './block_cases.js';
import { runGraph } from './converter_blocks.js';
import { compareLogits, seededImages } from './model_cases.js';
import { Rng } from './random.js';

/** Wide blocks (C up to 384, D = 4C) and odd shapes on small spatial sizes (the float64 oracle is slow). */
export function wideCases(rng: Rng): BlockCase[] {
  const size = () => rng.int(2, 9);
  return [
    { kind: 'convnext', n: 2, h: size(), w: size(), c: 96, d: 384, k: 7, act: 'gelu', layerScale: true },
    { kind: 'convnext', n: 1, h: size(), w: size(), c: 192, d: 768, k: 7, act: 'gelu', layerScale: true },
    { kind: 'convnext', n: 1, h: 3, w: 5, c: 384, d: 1536, k: 7, act: 'gelu_tanh', layerScale: false },
    { kind: 'convfirst', n: 2, h: size(), w: size(), c: 96, d: 384, k: 3, g: 8, act: 'silu', residual: true },
    { kind: 'convfirst', n: 1, h: size(), w: size(), c: 192, d: 768, k: 3, g: 16, act: 'gelu', residual: true },
    { kind: 'convfirst', n: 1, h: 5, w: 3, c: 384, d: 1536, k: 3, g: 8, act: 'relu', residual: false },
    { kind: 'convfirst', n: 3, h: size(), w: size(), c: 20, d: 80, k: 5, g: 2, act: 'relu6', residual: true },
    { kind: 'convnext', n: 1, h: 13, w: 11, c: 36, d: 144, k: 9, act: 'silu', layerScale: true },
  ];
}

/** A case that cannot run fused (C not a multiple of 4): must fall back and still be right. */
export const FALLBACK_CASE: BlockCase = { kind: 'convnext', n: 2, h: 5, w: 4, c: 6, d: 24, k: 3, act: 'gelu',
  layerScale: true };

function specOf(t: BlockCase) {
  return t.kind === 'convnext' ?
    convnextSpec([t.n, t.h, t.w, t.c], [t.c, t.d], [t.k, t.k, t.c, 1], { epsilon: 1e-6, activation: t.act },
      t.layerScale) :
    convfirstSpec([t.n, t.h, t.w, t.c], [t.c, t.d], [t.k, t.k, t.g, t.c], { activation: t.act, residual: t.residual });
}

/**
 * Runs `t` with exactly the tiling that `profile` selects, when that tiling fits the device; when it does not
 * (a 48 KiB tiling on a 32 KiB adapter), checks that the kernel falls back and says why. Returns whether
 * the fused kernel ran.
 */
export async function runWithProfile(t: BlockCase, profile: TilingLimits, seed: number,
  splits?: number): Promise<boolean> {
  const device = (tf.backend() as WebGPUBackend).device;
  if (splits != null) setTilingOverride({ hiddenSplits: splits });
  const choice = chooseTiling(specOf(t), [t.n, t.h, t.w, t.c], profile);
  setTilingOverride(null);
  if (!choice.ok) throw new Error(`${caseName(t)}: no tiling for ${JSON.stringify(profile)}: ${choice.reason}`);
  const { workgroupSize, tilePixels, hiddenChunk, expandSlice, projectSlice, hiddenSplits } = choice.tiling;
  setTilingOverride({ workgroupSize, tilePixels, hiddenChunk, expandSlice, projectSlice, hiddenSplits });
  try {
    await runBlockCase(t, seed);
  } finally {
    setTilingOverride(null);
  }
  const decision = lastKernelDecision();
  const fits = choice.tiling.storageBytes <= device.limits.maxComputeWorkgroupStorageSize &&
    workgroupSize <= device.limits.maxComputeInvocationsPerWorkgroup;
  if (decision == null || decision.fused !== fits) {
    throw new Error(`${caseName(t)}: expected fused=${fits}, got ${JSON.stringify(decision?.reason)}`);
  }
  if (fits && decision.tiling?.hiddenSplits !== hiddenSplits) {
    throw new Error(`${caseName(t)}: expected ${hiddenSplits} hidden slices, got ${JSON.stringify(decision.reason)}`);
  }
  return fits;
}

/**
 * Forced tilings that the automatic choice rarely picks for small test shapes (for D = 192), both plain and
 * split-hidden (S slices of D / S hidden channels, staged and unstaged weights).
 */
export const FORCED_TILINGS: TilingOverride[] = [
  { tilePixels: 64, hiddenChunk: 16, expandSlice: 16, projectSlice: 16, workgroupSize: 256, hiddenSplits: 1,
    laneRows: 1, prefetch: true, convStrip: 8 },
  { tilePixels: 32, hiddenChunk: 32, expandSlice: 0, projectSlice: 0, workgroupSize: 128, hiddenSplits: 3,
    unroll: 4 },
  { tilePixels: 16, hiddenChunk: 16, expandSlice: 8, projectSlice: 0, workgroupSize: 64, hiddenSplits: 4,
    laneRows: 2, prefetch: true, unroll: 2, convStrip: 2, convRowLoop: true },
  { tilePixels: 2, hiddenChunk: 48, expandSlice: 0, projectSlice: 16, workgroupSize: 256, hiddenSplits: 1,
    unroll: 3 },
];

export async function runForced(t: BlockCase, forced: TilingOverride, seed: number): Promise<void> {
  setTilingOverride(forced);
  try {
    await runBlockCase(t, seed);
  } finally {
    setTilingOverride(null);
  }
  const d = lastKernelDecision();
  const splits = forced.hiddenSplits ?? 1;
  const lanes = forced.laneRows;
  const tiling = d?.tiling;
  if (!d?.fused || tiling == null || tiling.tilePixels !== forced.tilePixels || tiling.hiddenSplits !== splits ||
      d.dispatches !== (splits > 1 ? 2 : 1) || (forced.convRowLoop != null && !!tiling.convRowLoop !== forced.convRowLoop) ||
      (lanes != null && (tiling.expand.laneRows > lanes || tiling.project.laneRows > lanes))) {
    throw new Error(`forced tiling ${JSON.stringify(forced)} did not run: ${d?.reason}`);
  }
}

function convnextWeights(c: number, d: number, rng: Rng): Record<string, tf.Tensor> {
  const r = (shape: number[], std: number) => tf.tensor(rng.normals(shape.reduce((a, b) => a * b), std), shape);
  return { dwFilter: r([3, 3, c, 1], 0.3), dwBias: r([c], 0.1), lnGamma: r([c], 1), lnBeta: r([c], 0.1),
    w1: r([c, d], 0.2), b1: r([d], 0.1), w2: r([d, c], 0.1), b2: r([c], 0.1), layerScale: r([c], 0.5) };
}

/** Counts the programs (one per dispatch) the backend runs until restore(), and records their shader keys. */
export function countPrograms(backend: WebGPUBackend): { count: number; keys: string[]; restore(): void } {
  const run = backend.runWebGPUProgram;
  const counter = { count: 0, keys: [] as string[], restore: () => { backend.runWebGPUProgram = run; } };
  backend.runWebGPUProgram = function (this: WebGPUBackend, ...args: Parameters<typeof run>) {
    counter.count++;
    counter.keys.push(args[0].shaderKey);
    return run.apply(this, args);
  } as typeof run;
  return counter;
}

/**
 * Runs GraphModels `fused` and `baseline` on the current (webgpu) backend with the same seeded images and returns
 * the shader keys of the programs each ran; throws if either leaks tensors or their logits disagree.
 */
export async function compareGraphsOnWebGPU(fused: Graph, baseline: Graph, seed: number):
  Promise<{ fused: string[]; baseline: string[] }> {
  const recorder = countPrograms(tf.backend() as WebGPUBackend);
  const x = seededImages(seed + 1);
  const before = tf.memory().numTensors;
  let yf: Float32Array;
  let yb: Float32Array;
  let fusedKeys: string[];
  try {
    yf = await runGraph(fused, x);
    fusedKeys = recorder.keys.splice(0);
    yb = await runGraph(baseline, x);
  } finally {
    recorder.restore();
  }
  const leaked = tf.memory().numTensors - before;
  x.dispose();
  if (leaked !== 0) throw new Error(`${leaked} tensors leaked running the two graphs`);
  const mismatch = compareLogits(yf, yb);
  if (mismatch != null) throw new Error(`fused and baseline logits differ: ${mismatch}`);
  return { fused: fusedKeys, baseline: recorder.keys };
}

/** Runs `call` `times` times and returns how many programs each call launched. */
export async function programsPerCall(programs: { count: number }, call: () => tf.Tensor, times: number): Promise<number[]> {
  const counts: number[] = [];
  for (let i = 0; i < times; i++) {
    programs.count = 0;
    const y = call();
    counts.push(programs.count);
    await y.data();
    y.dispose();
  }
  return counts;
}

/** The backend holds no more data ids than before (released ones leave once the queue is submitted). */
export async function expectNoLeakedDataIds(backend: WebGPUBackend, dataIdsBefore: number): Promise<void> {
  const flush = tf.ones([1]);
  await flush.data();
  flush.dispose();
  const leakedIds = backend.numDataIds() - dataIdsBefore;
  if (leakedIds > 0) throw new Error(`backend holds ${leakedIds} more data ids`);
}

/** Counts programs per call: the first call on new weights folds them (2), later calls are one dispatch. */
export async function checkDispatchesAndCache(rng: Rng): Promise<void> {
  const backend = tf.backend() as WebGPUBackend;
  clearWebGPUWeightCache();
  const programs = countPrograms(backend);
  const before = tf.memory().numTensors;
  const dataIdsBefore = backend.numDataIds();
  try {
    const x = tf.tensor(rng.normals(2 * 5 * 7 * 16), [2, 5, 7, 16]) as tf.Tensor4D;
    const w = convnextWeights(16, 64, rng);
    const counts = await programsPerCall(programs, () => convnextBlock(x, w as never), 3);
    if (counts.join() !== '2,1,1') throw new Error(`programs per call ${counts} (want fold + block, then 1, 1)`);
    if (webgpuWeightCacheStats().entries !== 1) throw new Error(`cache entries ${webgpuWeightCacheStats().entries}`);
    // New weights (a new dataId) fold again; disposing the old ones frees their entry on the next call.
    const w2 = { ...w, w1: tf.mul(w.w1, 1) };
    programs.count = 0;
    const y2 = convnextBlock(x, w2 as never);
    if (programs.count !== 2) throw new Error(`new weight set: ${programs.count} programs, want 2`);
    await y2.data();
    y2.dispose();
    if (webgpuWeightCacheStats().entries !== 2) throw new Error(`cache entries ${webgpuWeightCacheStats().entries}`);
    w2.w1.dispose();
    const y3 = convnextBlock(x, w as never);
    await y3.data();
    y3.dispose();
    if (webgpuWeightCacheStats().entries !== 1) {
      throw new Error(`disposed weights still cached: ${webgpuWeightCacheStats().entries} entries`);
    }
    tf.dispose([x, ...Object.values(w)]);
    clearWebGPUWeightCache();
    if (webgpuWeightCacheStats().entries !== 0) throw new Error('clearWebGPUWeightCache left entries');
  } finally {
    programs.restore();
  }
  if (tf.memory().numTensors !== before) throw new Error(`leaked ${tf.memory().numTensors - before} tensors`);
  await expectNoLeakedDataIds(backend, dataIdsBefore);
}

/**
 * The split-hidden variant (chosen automatically: a few pixels, D = 256 in two slices of 128): two
 * dispatches per call after the fold, the decision says why, the result matches float64 with poisoned
 * partials and output, and neither tensors nor backend data ids (the partials) leak.
 */
export async function checkSplitDispatches(rng: Rng, seed: number): Promise<void> {
  const backend = tf.backend() as WebGPUBackend;
  const t: BlockCase = { kind: 'convnext', n: 1, h: 3, w: 5, c: 64, d: 256, k: 3, act: 'gelu', layerScale: true };
  clearWebGPUWeightCache();
  const programs = countPrograms(backend);
  const before = tf.memory().numTensors;
  const dataIdsBefore = backend.numDataIds();
  setPoisonFusedOutputs(true);
  try {
    const x = tf.tensor(rng.normals(t.n * t.h * t.w * t.c), [t.n, t.h, t.w, t.c]) as tf.Tensor4D;
    const w = convnextWeights(t.c, t.d, rng);
    const counts = await programsPerCall(programs, () => convnextBlock(x, w as never), 3);
    const d = lastKernelDecision();
    if (d?.variant !== 'split-hidden' || d.dispatches !== 2 || d.tiling?.hiddenSplits !== 2 ||
        !/split into 2 slices/.test(d.reason)) {
      throw new Error(`expected the split-hidden variant with 2 slices, got ${JSON.stringify(d?.reason)}`);
    }
    if (counts.join() !== '3,2,2') throw new Error(`programs per call ${counts} (want fold + 2, then 2, 2)`);
    tf.dispose([x, ...Object.values(w)]);
    clearWebGPUWeightCache();
    // Numerics of the same configuration against float64 (poisoned partials and output).
    programs.count = 0;
    await runBlockCase(t, seed);
    if (lastKernelDecision()?.variant !== 'split-hidden') throw new Error('runBlockCase did not run split-hidden');
    clearWebGPUWeightCache();
  } finally {
    programs.restore();
    setPoisonFusedOutputs(false);
  }
  if (tf.memory().numTensors !== before) throw new Error(`leaked ${tf.memory().numTensors - before} tensors`);
  await expectNoLeakedDataIds(backend, dataIdsBefore);
}

/** Limits too small for any tile: the op must fall back to the reference, say why, and stay correct. */
export async function checkFallbackOnTinyLimits(seed: number): Promise<void> {
  setWebGPUTilingLimits({ maxComputeWorkgroupStorageSize: 1024, maxComputeInvocationsPerWorkgroup: 256 });
  try {
    await runBlockCase({ kind: 'convfirst', n: 1, h: 4, w: 3, c: 384, d: 1536, k: 3, g: 8, act: 'silu',
      residual: true }, seed);
  } finally {
    setWebGPUTilingLimits(null);
  }
  const d = lastKernelDecision();
  if (d == null || d.fused || !/maxComputeWorkgroupStorageSize/.test(d.reason)) {
    throw new Error(`expected a fallback naming maxComputeWorkgroupStorageSize, got ${JSON.stringify(d)}`);
  }
}

export { FUSED_CONVFIRST_BLOCK, FUSED_CONVNEXT_BLOCK, DATACENTER_LIMITS, SWIFTSHADER_LIMITS, setPoisonFusedOutputs };

/**
 * Cases for the 'gemm-mlp' variant (forced): row counts that leave a partial last GEMM tile, C = 32 (the
 * 32 x 32 project tile), ConvFirst without residual, odd spatial sizes.
 */
export const GEMM_MLP_CASES: BlockCase[] = [
  { kind: 'convnext', n: 2, h: 5, w: 7, c: 64, d: 256, k: 7, act: 'gelu', layerScale: true },
  { kind: 'convfirst', n: 1, h: 9, w: 11, c: 32, d: 128, k: 3, g: 8, act: 'silu', residual: false },
  { kind: 'convfirst', n: 3, h: 3, w: 5, c: 128, d: 512, k: 3, g: 8, act: 'gelu', residual: true },
  // Rows of 14 and 7: the conv + norm dispatch's 7-pixel strips, a partly filled last tile.
  { kind: 'convnext', n: 2, h: 3, w: 14, c: 64, d: 256, k: 7, act: 'gelu', layerScale: true },
  { kind: 'convnext', n: 3, h: 2, w: 7, c: 128, d: 512, k: 7, act: 'gelu_tanh', layerScale: false },
  // C = 96: the preferred 64 x 128 expand and 64 x 96 project tiles (rows 9 + 9 + 9: a partial last row tile).
  { kind: 'convnext', n: 3, h: 3, w: 3, c: 96, d: 384, k: 7, act: 'gelu', layerScale: true },
  // C = 192: the 32 x 96 project tile.
  { kind: 'convfirst', n: 1, h: 2, w: 7, c: 192, d: 768, k: 3, g: 8, act: 'silu', residual: true },
];

/**
 * Forces the 'gemm-mlp' variant for `t` under `limits`: the decision says so, after the weight fold every call
 * runs exactly 3 programs (conv + norm, expand, project), outputs (intermediates too) are poisoned first,
 * the result matches float64, and neither tensors nor backend data ids leak.
 */
export async function checkGemmMlp(t: BlockCase, limits: TilingLimits, seed: number,
  tiles: Pick<TilingOverride, 'gemmExpand' | 'gemmProject' | 'gemmProjectSplits' | 'convTilePixels' |
    'convWorkgroupSize' | 'convRowLoop'> = {}): Promise<void> {
  const backend = tf.backend() as WebGPUBackend;
  clearWebGPUWeightCache();
  setWebGPUTilingLimits(limits);
  // Unsplit unless the case asks for split-K (the automatic rule would split these small GEMMs).
  setTilingOverride({ gemmMlp: true, gemmProjectSplits: 1, ...tiles });
  setPoisonFusedOutputs(true);
  const dataIdsBefore = backend.numDataIds();
  const programs = countPrograms(backend);
  try {
    await runBlockCase(t, seed);
    const d = lastKernelDecision();
    const splits = tiles.gemmProjectSplits ?? 1;
    const dispatches = splits > 1 ? 4 : 3;
    if (d?.variant !== 'gemm-mlp' || d.dispatches !== dispatches || d.gemm == null || d.gemm.projectSplits !== splits ||
        (tiles.gemmExpand != null && d.gemm.expand !== tiles.gemmExpand) ||
        (tiles.gemmProject != null && d.gemm.project !== tiles.gemmProject) ||
        (tiles.convTilePixels != null && d.gemm.conv.tilePixels !== tiles.convTilePixels) ||
        (tiles.convWorkgroupSize != null && d.gemm.conv.workgroupSize !== tiles.convWorkgroupSize) ||
        (tiles.convRowLoop != null && !!d.gemm.conv.convRowLoop !== tiles.convRowLoop)) {
      throw new Error(`${caseName(t)}: expected the gemm-mlp variant, got ${JSON.stringify(d?.reason)}`);
    }
    // The weight fold, then conv + norm, expand, project (split-K: and the sum).
    if (programs.count !== 1 + dispatches) {
      throw new Error(`${caseName(t)}: ${programs.count} programs, want fold + ${dispatches}`);
    }
  } finally {
    programs.restore();
    setPoisonFusedOutputs(false);
    setTilingOverride(null);
    setWebGPUTilingLimits(null);
    clearWebGPUWeightCache();
  }
  await expectNoLeakedDataIds(backend, dataIdsBefore);
}
