/**
 * Patch conv cases shared by the node suite (cpu, wasm, webgpu through Dawn) and karma (webgl, webgpu in
 * Chromium): odd shapes against an independent float64 oracle, tensor accounting, bad inputs, and on webgpu
 * both limit profiles, forced tilings, dispatch counts and the cached weight fold.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type BadInput, checkBadInputs } from './bad_inputs.js';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { patchConv } from '../../src/index.js';
import { clearWebGPUWeightCache, lastPatchConvDecision, planPatchConv, setPatchConvOverride, setPoisonFusedOutputs,
  setWebGPUTilingLimits, type PatchConvOverride, type PatchConvPlan, type TilingLimits, webgpuWeightCacheStats }
  from '../../src/kernels/webgpu/index.js';
import { compare, type CaseResult, type WarmUp } from './block_cases.js';
import { Rng } from './random.js';
import { countPrograms, expectNoLeakedDataIds, programsPerCall } from './webgpu_fused.js';
import { layerNorm64 } from './layer_norm_cases.js';

export interface PatchConvCase {
  n: number; h: number; w: number; cin: number; cout: number; k: number; preNorm: boolean; bias: boolean;
  /** A LayerNorm of the output over Cout (the stem's). */
  postNorm?: boolean;
}

export function patchCaseName(c: PatchConvCase): string {
  return `N${c.n} ${c.h}x${c.w}x${c.cin} -> ${c.cout}, k ${c.k}${c.preNorm ? ', preNorm' : ''}${c.bias ? ', bias' : ''}` +
    `${c.postNorm ? ', postNorm' : ''}`;
}

/** float64 patch conv (plain loops): optional LayerNorm over channels (two-pass moments), conv stride k, bias. */
export function patchConv64(x: Float32Array, c: PatchConvCase, filter: Float32Array, bias: Float32Array | null,
  norm: { gamma: Float32Array; beta: Float32Array; epsilon: number } | null): Float64Array {
  const { n, h, w, cin, cout, k } = c;
  const xn = norm ? layerNorm64(x, cin, norm.gamma, norm.beta, norm.epsilon) : Float64Array.from(x);
  const ho = Math.floor(h / k);
  const wo = Math.floor(w / k);
  const out = new Float64Array(n * ho * wo * cout);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        const o = ((b * ho + i) * wo + j) * cout;
        for (let co = 0; co < cout; co++) out[o + co] = bias ? bias[co] : 0;
        for (let dy = 0; dy < k; dy++) {
          for (let dx = 0; dx < k; dx++) {
            const xi = ((b * h + i * k + dy) * w + j * k + dx) * cin;
            for (let ci = 0; ci < cin; ci++) {
              const fi = ((dy * k + dx) * cin + ci) * cout;
              for (let co = 0; co < cout; co++) out[o + co] += xn[xi + ci] * filter[fi + co];
            }
          }
        }
      }
    }
  }
  return out;
}

/**
 * Stem-like (Cin 3, k 4) and downsample-like (k 2, preNorm) cases: H / W not multiples of k (unused edge
 * rows), N > 1, Cout not a multiple of 4, output rows not multiples of any tile, plus one fresh random case.
 */
export function patchConvCases(rng: Rng): PatchConvCase[] {
  return [
    { n: 2, h: 17, w: 13, cin: 3, cout: 12, k: 4, preNorm: false, bias: true },
    { n: 1, h: 8, w: 8, cin: 3, cout: 7, k: 4, preNorm: false, bias: false },
    { n: 3, h: 14, w: 10, cin: 16, cout: 24, k: 2, preNorm: true, bias: true },
    { n: 2, h: 9, w: 11, cin: 12, cout: 5, k: 2, preNorm: true, bias: true },
    { n: 1, h: 6, w: 6, cin: 5, cout: 9, k: 3, preNorm: true, bias: false },
    { n: 2, h: 7, w: 5, cin: 40, cout: 36, k: 2, preNorm: false, bias: true },
    // The stem's post-norm (a scalar-output Cout too), and both norms at once.
    { n: 2, h: 13, w: 9, cin: 3, cout: 20, k: 4, preNorm: false, bias: true, postNorm: true },
    { n: 1, h: 5, w: 7, cin: 6, cout: 7, k: 2, preNorm: true, bias: false, postNorm: true },
    { n: rng.int(1, 3), h: rng.int(2, 12), w: rng.int(2, 12), cin: rng.int(1, 20), cout: rng.int(1, 20), k: 2,
      preNorm: rng.int(0, 1) === 1, bias: rng.int(0, 1) === 1, postNorm: rng.int(0, 1) === 1 },
  ];
}

/** Runs patchConv on the active backend against float64; throws on mismatch or leaked tensors. */
export async function runPatchConvCase(c: PatchConvCase, seed: number, epsilon = 1e-6,
  warmUp?: WarmUp): Promise<CaseResult> {
  const label = `patchConv ${patchCaseName(c)} on ${tf.getBackend()} (seed ${seed})`;
  const rng = new Rng(seed);
  // An offset mean and a scale far from 1 make both LayerNorm moments matter.
  const xs = rng.normals(c.n * c.h * c.w * c.cin, 1.5, 0.3);
  const fs = rng.normals(c.k * c.k * c.cin * c.cout, 1 / Math.sqrt(c.k * c.k * c.cin));
  const bs = rng.normals(c.cout, 0.1);
  const gs = rng.normals(c.cin, 0.5, 1);
  const betas = rng.normals(c.cin, 0.1);
  const postGs = rng.normals(c.cout, 0.5, 1);
  const postBetas = rng.normals(c.cout, 0.1);
  const before = tf.memory().numTensors;
  const x = tf.tensor4d(xs, [c.n, c.h, c.w, c.cin]);
  const filter = tf.tensor4d(fs, [c.k, c.k, c.cin, c.cout]);
  const bias = c.bias ? tf.tensor1d(bs) : null;
  const [gamma, beta, postGamma, postBeta] = [tf.tensor1d(gs), tf.tensor1d(betas), tf.tensor1d(postGs), tf.tensor1d(postBetas)];
  const run = () => patchConv(x, filter, bias, { ...(c.preNorm ? { preNorm: { gamma, beta, epsilon } } : {}),
    ...(c.postNorm ? { postNorm: { gamma: postGamma, beta: postBeta, epsilon } } : {}) });
  await warmUp?.(run);
  const y = run();
  const got = await y.data();
  const want = [c.n, Math.floor(c.h / c.k), Math.floor(c.w / c.k), c.cout];
  const shape = y.shape.join();
  tf.dispose([x, filter, gamma, beta, postGamma, postBeta, y, ...(bias ? [bias] : [])]);
  if (shape !== want.join()) throw new Error(`${label}: output shape [${shape}], want [${want}]`);
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) throw new Error(`${label}: leaked ${leaked} tensors`);
  const conv = patchConv64(xs, c, fs, c.bias ? bs : null, c.preNorm ? { gamma: gs, beta: betas, epsilon } : null);
  // Depth: k k Cin products per output, plus the LayerNorm's two sums over Cin, whose float32 rounding of x (of order
  // |x| ulp) the normalization amplifies by rstd: the sums were sized for |x| rstd ~ 8 (values ~1.5 +- 0.3) and grow
  // with it, e.g. for a pixel of 2 nearly equal channels (rstd in the hundreds). A post-norm amplifies the conv
  // output's error the same way (its conditioning over Cout) and adds its own two sums over Cout.
  const conditioning = c.preNorm ? layerNormConditioning(xs, c.cin, epsilon) / 8 : 0;
  let depth = c.k * c.k * c.cin + (c.preNorm ? 8 * c.cin * Math.max(1, conditioning) : 0) + 2;
  if (!c.postNorm) return compare(got, conv, depth, label);
  const post = Math.max(1, layerNormConditioning(conv, c.cout, epsilon) / 8);
  depth = depth * post + 8 * c.cout * post;
  return compare(got, layerNorm64(conv, c.cout, postGs, postBetas, epsilon), depth, label);
}

/** max over pixels of max|x| x rstd: how much the LayerNorm magnifies the rounding of its float32 inputs. */
function layerNormConditioning(x: ArrayLike<number>, cin: number, epsilon: number): number {
  let worst = 0;
  for (let p = 0; p < x.length / cin; p++) {
    let mean = 0;
    let peak = 0;
    for (let i = 0; i < cin; i++) { mean += x[p * cin + i]; peak = Math.max(peak, Math.abs(x[p * cin + i])); }
    mean /= cin;
    let v = 0;
    for (let i = 0; i < cin; i++) v += (x[p * cin + i] - mean) ** 2;
    worst = Math.max(worst, peak / Math.sqrt(v / cin + epsilon));
  }
  return worst;
}

/** Bad inputs: [what, call, expected message]. The checks run before any kernel, on any backend. */
export function badPatchConvInputs(): BadInput[] {
  const x = () => tf.zeros([1, 8, 8, 4]);
  const f = (k = 2, cin = 4, cout = 6) => tf.zeros([k, k, cin, cout]);
  const ones = (n: number) => tf.ones([n]);
  return [
    ['rank-3 x', () => patchConv(tf.zeros([8, 8, 4]), f()), /patchConv: x must have shape \[N, H, W, Cin\] = \[\?, \?, \?, \?\], got \[8, 8, 4\]/],
    ['int32 x', () => patchConv(tf.zeros([1, 8, 8, 4], 'int32'), f()), /patchConv: x must be float32, got int32/],
    ['filter Cin mismatch', () => patchConv(x(), f(2, 3)), /patchConv: filter must have shape \[k, k, Cin, Cout\] = \[\?, \?, 4, \?\], got \[2, 2, 3, 6\]/],
    ['rank-2 filter', () => patchConv(x(), tf.zeros([4, 6])), /patchConv: filter must have shape \[k, k, Cin, Cout\]/],
    ['non-square filter (stride k needs k x k)', () => patchConv(x(), tf.zeros([2, 3, 4, 6])), /patchConv: filter must be square \(k x k, stride k\), got 2x3/],
    ['patch larger than x', () => patchConv(tf.zeros([1, 3, 8, 4]), f(4)), /patchConv: x's H x W = 3x8 is smaller than one 4x4 patch/],
    ['wrong bias length', () => patchConv(x(), f(), ones(5)), /patchConv: bias must have shape \[Cout\] = \[6\], got \[5\]/],
    ['wrong gamma length', () => patchConv(x(), f(), null, { preNorm: { gamma: ones(3), beta: ones(4) } }),
      /patchConv: preNorm\.gamma must have shape \[Cin\] = \[4\], got \[3\]/],
    ['missing beta', () => patchConv(x(), f(), null, { preNorm: { gamma: ones(4) } as never }), /patchConv: preNorm\.beta is required/],
    ['epsilon 0', () => patchConv(x(), f(), null, { preNorm: { gamma: ones(4), beta: ones(4), epsilon: 0 } }),
      /patchConv: options\.preNorm\.epsilon must be a number in float32's normal range .*, got 0/],
    ['wrong postNorm gamma length', () => patchConv(x(), f(), null, { postNorm: { gamma: ones(4), beta: ones(6) } }),
      /patchConv: postNorm\.gamma must have shape \[Cout\] = \[6\], got \[4\]/],
    ['postNorm epsilon NaN', () => patchConv(x(), f(), null, { postNorm: { gamma: ones(6), beta: ones(6), epsilon: NaN } }),
      /patchConv: options\.postNorm\.epsilon must be a number in float32's normal range .*, got NaN/],
    ['missing filter', () => patchConv(x(), undefined as never), /patchConv: filter is required/],
    ['options not an object', () => patchConv(x(), f(), null, 7 as never), /patchConv: options must be an object, got 7/],
    ['tensor-like bias of the wrong length (freed on error)', () => patchConv(x(), f(), [1, 2, 3]),
      /patchConv: bias must have shape \[Cout\] = \[6\], got \[3\]/],
  ];
}

/** Each bad input throws its message, and nothing the op made survives (inputs are made inside tidy). */
export function checkBadPatchConvInputs(): void {
  checkBadInputs(badPatchConvInputs());
}

/**
 * Forced tilings: several rows and columns per thread, a 256-thread workgroup, a K slice that does not divide
 * the depth, 8 statistics lanes per pixel over 5 x 12 = 60 threads (a partial lane group) and 1 lane, and one (kSlice 128, 256 threads, 4 x 4: over 160 KiB) that must shrink its slice to fit each profile.
 */
export const FORCED_PATCH_TILINGS: PatchConvOverride[] = [
  { rows: 2, cols: 3, threadCols: 5, workgroupSize: 64, kSlice: 12, statLanes: 8 },
  { rows: 4, cols: 1, threadCols: 8, workgroupSize: 256, kSlice: 8, statLanes: 1 },
  { rows: 4, cols: 4, threadCols: 4, workgroupSize: 256, kSlice: 128 },
];

/**
 * webgpu: every case under the profile's limits with the default and the forced tilings, NaN-poisoned outputs;
 * the plan must have run fused within the profile's limits (the adapter's own limits bound it too).
 */
export async function runPatchConvProfile(cases: PatchConvCase[], profile: TilingLimits, seed: number): Promise<void> {
  setWebGPUTilingLimits(profile);
  setPoisonFusedOutputs(true);
  try {
    // The direct kernel (patch_conv_wgsl.ts); the GEMM path, the default where it applies, has runPatchGemmCases.
    for (const forced of [{}, ...FORCED_PATCH_TILINGS]) {
      setPatchConvOverride({ ...forced, gemm: false });
      for (const c of cases) {
        await runPatchConvCase(c, seed);
        const d = lastPatchConvDecision();
        if (d == null || !d.ok) throw new Error(`${patchCaseName(c)}: did not run fused: ${JSON.stringify(d)}`);
        const t = d.plan.tiling;
        if (t.storageBytes > profile.maxComputeWorkgroupStorageSize || t.workgroupSize > profile.maxComputeInvocationsPerWorkgroup) {
          throw new Error(`${patchCaseName(c)}: tiling ${JSON.stringify(t)} exceeds ${JSON.stringify(profile)}`);
        }
        if (forced.rows != null && (t.rows !== forced.rows || t.threadCols !== Math.min(forced.threadCols!, t.workgroupSize))) {
          throw new Error(`${patchCaseName(c)}: forced ${JSON.stringify(forced)} gave ${JSON.stringify(t)}`);
        }
      }
    }
  } finally {
    setPatchConvOverride(null);
    setPoisonFusedOutputs(false);
    setWebGPUTilingLimits(null);
  }
}

/**
 * webgpu: programs per call (preNorm: the fold once per weight set, then one dispatch; no preNorm: one), the
 * cached fold freed when its weights are disposed, no leaked tensors or backend data ids.
 */
export async function checkPatchConvDispatches(seed: number): Promise<void> {
  const backend = tf.backend() as WebGPUBackend;
  clearWebGPUWeightCache();
  const before = tf.memory().numTensors;
  const dataIdsBefore = backend.numDataIds();
  const programs = countPrograms(backend);
  // The direct kernel's fold cache (the GEMM path folds nothing: runPatchGemmCases counts its dispatches).
  setPatchConvOverride({ gemm: false });
  try {
    const rng = new Rng(seed);
    const x = tf.tensor4d(rng.normals(2 * 8 * 6 * 8), [2, 8, 6, 8]);
    const filter = tf.tensor4d(rng.normals(2 * 2 * 8 * 12), [2, 2, 8, 12]);
    const [bias, gamma, beta] = [tf.tensor1d(rng.normals(12)), tf.tensor1d(rng.normals(8)), tf.tensor1d(rng.normals(8))];
    const plain = await programsPerCall(programs, () => patchConv(x, filter, bias), 2);
    if (plain.join() !== '1,1') throw new Error(`no preNorm: programs per call ${plain} (want 1, 1)`);
    const folds = webgpuWeightCacheStats().folds;
    const normed = await programsPerCall(programs, () => patchConv(x, filter, bias, { preNorm: { gamma, beta } }), 3);
    if (normed.join() !== '2,1,1') throw new Error(`preNorm: programs per call ${normed} (want 2, 1, 1: fold once)`);
    if (webgpuWeightCacheStats().folds !== folds + 1) throw new Error('preNorm: expected exactly one weight fold');
    // New gamma: a new weight set, folded again.
    const gamma2 = tf.add(gamma, 1);
    const again = await programsPerCall(programs, () => patchConv(x, filter, bias, { preNorm: { gamma: gamma2, beta } }), 2);
    if (again.join() !== '2,1') throw new Error(`new gamma: programs per call ${again} (want 2, 1)`);
    // Disposing the weights frees their two cached folds; a new weight set adds one.
    const entries = webgpuWeightCacheStats().entries;
    tf.dispose([x, filter, bias, gamma, beta, gamma2]);
    const probe = tf.zeros([1, 2, 2, 1]);
    const [f1, g1, b1] = [tf.zeros([2, 2, 1, 4]), tf.ones([1]), tf.zeros([1])];
    tf.dispose(patchConv(probe, f1, null, { preNorm: { gamma: g1, beta: b1 } }));
    if (webgpuWeightCacheStats().entries !== entries - 2 + 1) {
      throw new Error(`cache entries ${webgpuWeightCacheStats().entries}, want ${entries - 1} (two freed, one added)`);
    }
    tf.dispose([probe, f1, g1, b1]);
    if (webgpuWeightCacheStats().entries !== entries - 2) throw new Error('the last fold was not freed with its weights');
  } finally {
    programs.restore();
    setPatchConvOverride(null);
  }
  clearWebGPUWeightCache();
  if (tf.memory().numTensors !== before) throw new Error(`leaked ${tf.memory().numTensors - before} tensors`);
  await expectNoLeakedDataIds(backend, dataIdsBefore);
}

/**
 * Split-K cases: K = k k Cin split so that split boundaries fall inside a pixel's channels (statistics of 2-3
 * patch positions per split) or exactly on them, a last slice past K (k 3, Cin 5: K = 45 in 4-step slices),
 * scalar output vectors (Cout 5, 7), stem-like without LayerNorm, with and without bias, N > 1.
 */
export function patchConvSplitCases(): PatchConvCase[] {
  return [
    { n: 2, h: 9, w: 11, cin: 12, cout: 5, k: 2, preNorm: true, bias: true },
    { n: 1, h: 6, w: 7, cin: 5, cout: 9, k: 3, preNorm: true, bias: false },
    { n: 3, h: 10, w: 6, cin: 16, cout: 24, k: 2, preNorm: true, bias: true },
    { n: 2, h: 9, w: 8, cin: 3, cout: 7, k: 4, preNorm: false, bias: false },
    { n: 1, h: 8, w: 12, cin: 4, cout: 12, k: 2, preNorm: false, bias: true },
  ];
}

/** K slices forced for the split cases: 4 steps, so small K still has several whole slices to split. */
const SPLIT_K_SLICE = 4;

/** The forced split factors tried on a plan with `slices` K slices: 2, 3 (where they divide) and every slice its own split. */
export function forcedSplitsFor(slices: number): number[] {
  return [...new Set([2, 3, slices].filter((sp) => sp > 1 && slices % sp === 0))];
}

/**
 * webgpu, under `profile`: each split case with forced S (2, 3, all slices), NaN-poisoned partials and output,
 * against float64; the plan must report S, 2 dispatches and tilesM tilesN S workgroups, every call must run
 * exactly 2 programs (the weight fold cached before counting), nothing leaked (tensors and data ids). Then the
 * automatic rule on a deep N=1 conv (K = 512) must split too, and a kSplits that does not divide the slices is
 * refused with the reason (the reference runs).
 */
export async function runPatchConvSplits(cases: PatchConvCase[], profile: TilingLimits, seed: number): Promise<void> {
  const backend = tf.backend() as WebGPUBackend;
  setWebGPUTilingLimits(profile);
  setPoisonFusedOutputs(true);
  const programs = countPrograms(backend);
  const dataIdsBefore = backend.numDataIds();
  const before = tf.memory().numTensors;
  try {
    for (const c of cases) {
      setPatchConvOverride({ kSlice: SPLIT_K_SLICE });
      const base = planPatchConvFor(c, profile);
      const slices = Math.ceil(base.depth / base.tiling.kSlice);
      const splits = forcedSplitsFor(slices);
      if (splits.length === 0) throw new Error(`${patchCaseName(c)}: ${slices} K slices leave nothing to split`);
      for (const sp of splits) {
        setPatchConvOverride({ kSlice: SPLIT_K_SLICE, kSplits: sp });
        const label = `${patchCaseName(c)} S ${sp}`;
        programs.count = 0;
        await runPatchConvCase(c, seed);
        const d = lastPatchConvDecision();
        if (d == null || !d.ok) throw new Error(`${label}: did not run fused: ${JSON.stringify(d)}`);
        const p = d.plan;
        if (p.kSplits !== sp || p.dispatches !== 2 || p.workgroups !== p.tilesM * p.tilesN * sp) {
          throw new Error(`${label}: plan reports S ${p.kSplits}, ${p.dispatches} dispatches, ${p.workgroups} workgroups`);
        }
        if (p.tiling.storageBytes > profile.maxComputeWorkgroupStorageSize) throw new Error(`${label}: ${p.tiling.storageBytes} bytes`);
        // The first call on new weights also folds the LayerNorm (one more program); the weights are fresh per case.
        const want = 2 + (c.preNorm ? 1 : 0);
        if (programs.count !== want) throw new Error(`${label}: ${programs.count} programs, want ${want}`);
      }
    }
    await runAutomaticSplit(programs, seed);
    setPatchConvOverride({ kSplits: 5 });
    await runPatchConvCase(patchConvSplitCases()[2], seed);
    const refused = lastPatchConvDecision();
    if (refused == null || refused.ok || !/override kSplits 5 does not divide the 2 K slices of 32 \(K = 64\)/.test(refused.reason)) {
      throw new Error(`kSplits 5 on 2 slices: ${JSON.stringify(refused)}`);
    }
  } finally {
    programs.restore();
    setPatchConvOverride(null);
    setPoisonFusedOutputs(false);
    setWebGPUTilingLimits(null);
  }
  clearWebGPUWeightCache();
  if (tf.memory().numTensors !== before) throw new Error(`split-K: leaked ${tf.memory().numTensors - before} tensors`);
  await expectNoLeakedDataIds(backend, dataIdsBefore);
}

function planPatchConvFor(c: PatchConvCase, limits: TilingLimits): PatchConvPlan {
  const choice = planPatchConv({ n: c.n, h: c.h, w: c.w, cin: c.cin, cout: c.cout, k: c.k, preNorm: c.preNorm }, limits);
  if (!choice.ok) throw new Error(`${patchCaseName(c)}: ${choice.reason}`);
  return choice.plan;
}

/** N=1, K = 2 x 2 x 128: few workgroups and 16 slices, so the automatic rule splits; the second call is 2 programs. */
async function runAutomaticSplit(programs: { count: number }, seed: number): Promise<void> {
  setPatchConvOverride({ gemm: false });
  const c: PatchConvCase = { n: 1, h: 4, w: 6, cin: 128, cout: 12, k: 2, preNorm: true, bias: true };
  await runPatchConvCase(c, seed);
  const d = lastPatchConvDecision();
  if (d == null || !d.ok || d.plan.kSplits < 2 || d.plan.dispatches !== 2) {
    throw new Error(`${patchCaseName(c)}: the automatic rule did not split: ${JSON.stringify(d)}`);
  }
  const rng = new Rng(seed);
  const x = tf.tensor4d(rng.normals(4 * 6 * 128), [1, 4, 6, 128]);
  const filter = tf.tensor4d(rng.normals(2 * 2 * 128 * 12), [2, 2, 128, 12]);
  const [bias, gamma, beta] = [tf.tensor1d(rng.normals(12)), tf.tensor1d(rng.normals(128)), tf.tensor1d(rng.normals(128))];
  const counts = await programsPerCall(programs, () => patchConv(x, filter, bias, { preNorm: { gamma, beta } }), 2);
  tf.dispose([x, filter, bias, gamma, beta]);
  if (counts.join() !== '3,2') throw new Error(`automatic split: programs per call ${counts} (want 3, 2: fold once)`);
}

/**
 * GEMM-path cases (patch_conv_gemm.ts, forced on these small shapes): a stem-like 4x4/4 over Cin 3 whose H is
 * not a multiple of k, downsamples with and without bias whose rows fill no tile, each of the three tiles
 * (Cout 96, 64, 32), and forced reduction splits; `splits` are the forced S values (1 = the unsplit GEMM); `tileBm`
 * the tile height the rule must pick (the large-GEMM 32 x 96 tile: over 1024 rows, Cout >= 192).
 */
export const PATCH_GEMM_CASES: { c: PatchConvCase; splits: number[]; tileBm?: number }[] = [
  { c: { n: 2, h: 18, w: 12, cin: 3, cout: 96, k: 4, preNorm: false, bias: true }, splits: [1, 3] },
  { c: { n: 3, h: 10, w: 6, cin: 16, cout: 64, k: 2, preNorm: true, bias: true }, splits: [1, 2, 4] },
  { c: { n: 1, h: 9, w: 7, cin: 8, cout: 32, k: 2, preNorm: true, bias: false }, splits: [1, 2] },
  { c: { n: 2, h: 6, w: 8, cin: 24, cout: 96, k: 2, preNorm: true, bias: true }, splits: [2, 3, 6] },
  // The folded LayerNorm (splits inside one patch position): 1, 2 and 3 splits per position, k 2 and k 3 (9 positions).
  { c: { n: 2, h: 9, w: 7, cin: 32, cout: 64, k: 2, preNorm: true, bias: true }, splits: [4, 8] },
  { c: { n: 1, h: 6, w: 10, cin: 48, cout: 96, k: 2, preNorm: true, bias: false }, splits: [4, 12] },
  { c: { n: 2, h: 7, w: 6, cin: 16, cout: 32, k: 3, preNorm: true, bias: true }, splits: [9] },
  // The post-norm in the epilogue of each tile that spans Cout (96, 64, 32; rows not a multiple of the tile), and as its
  // own dispatch after a split.
  { c: { n: 2, h: 18, w: 12, cin: 3, cout: 96, k: 4, preNorm: false, bias: true, postNorm: true }, splits: [1, 3] },
  { c: { n: 3, h: 10, w: 6, cin: 16, cout: 64, k: 2, preNorm: false, bias: false, postNorm: true }, splits: [1] },
  { c: { n: 1, h: 9, w: 7, cin: 8, cout: 32, k: 2, preNorm: true, bias: true, postNorm: true }, splits: [1, 2] },
  // A large GEMM (1150 rows, not a multiple of 32) on the 32 x 96 tile, unsplit and split.
  { c: { n: 2, h: 50, w: 46, cin: 8, cout: 192, k: 2, preNorm: true, bias: true }, splits: [1, 2], tileBm: 32 },
];

/**
 * webgpu, under `profile`: each GEMM-path case with its forced splits, NaN-poisoned intermediates and output,
 * against float64; the plan must report the GEMM path with S, the LayerNorm folded exactly where every split stays
 * inside one patch position (and, with the knob off, never), the post-norm in the epilogue exactly when unsplit,
 * and every call run exactly its dispatches (LayerNorm when preNorm and not folded, the GEMM, the sum when split, the
 * post-norm's LayerNorm when split; folded, the weight fold first, as the weights are new per case). A shape the vec4
 * gather cannot read (k Cin not a multiple of 4) keeps the direct kernel even when the path is forced. Nothing leaked.
 */
export async function runPatchGemmCases(profile: TilingLimits, seed: number): Promise<void> {
  const backend = tf.backend() as WebGPUBackend;
  setWebGPUTilingLimits(profile);
  setPoisonFusedOutputs(true);
  const programs = countPrograms(backend);
  const dataIdsBefore = backend.numDataIds();
  try {
    for (const { c, splits, tileBm } of PATCH_GEMM_CASES) {
      for (const sp of splits) {
        for (const fold of c.preNorm && sp > 1 ? [true, false] : [true]) {
          setPatchConvOverride({ gemm: true, gemmSplits: sp, gemmFoldedNorm: fold });
          const label = `${patchCaseName(c)} GEMM S ${sp}${fold ? '' : ' (fold off)'}`;
          programs.count = 0;
          await runPatchConvCase(c, seed);
          const d = lastPatchConvDecision();
          const g = d != null && d.ok ? d.plan.gemm : undefined;
          if (g == null || g.kSplits !== sp) throw new Error(`${label}: the GEMM path did not run: ${JSON.stringify(d)}`);
          if (tileBm != null && g.tile.bm !== tileBm) throw new Error(`${label}: tile ${g.tile.bm} x ${g.tile.bn}, want bm ${tileBm}`);
          const foldable = fold && c.preNorm && sp > 1 && c.cin % ((c.k * c.k * c.cin) / sp) === 0;
          if (g.foldedNorm !== foldable) throw new Error(`${label}: foldedNorm ${g.foldedNorm}, want ${foldable}`);
          if (g.postNormFused !== (c.postNorm === true && sp === 1)) {
            throw new Error(`${label}: postNormFused ${g.postNormFused} (tile ${g.tile.bm} x ${g.tile.bn})`);
          }
          const want = (c.preNorm && !foldable ? 1 : 0) + 1 + (sp > 1 ? 1 : 0) + (c.postNorm && sp > 1 ? 1 : 0);
          if (g.dispatches !== want || programs.count !== want + (foldable ? 1 : 0)) {
            throw new Error(`${label}: ${programs.count} programs, plan ${g.dispatches}, want ${want}`);
          }
        }
      }
    }
    setPatchConvOverride({ gemm: true });
    const odd: PatchConvCase = { n: 1, h: 6, w: 6, cin: 5, cout: 32, k: 2, preNorm: true, bias: true };
    await runPatchConvCase(odd, seed);
    const d = lastPatchConvDecision();
    if (d == null || !d.ok || d.plan.gemm != null) throw new Error(`k Cin = 10: want the direct kernel, got ${JSON.stringify(d)}`);
  } finally {
    programs.restore();
    setPatchConvOverride(null);
    setPoisonFusedOutputs(false);
    setWebGPUTilingLimits(null);
  }
  await expectNoLeakedDataIds(backend, dataIdsBefore);
}
