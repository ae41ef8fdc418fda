/**
 * The block test matrix and its checker, shared by the node suites and the browser (karma) suites: each
 * case draws fresh random inputs, runs the op on the active backend and compares with the float64 oracle.
 */
import * as tf from '@tensorflow/tfjs-core';
import { convfirstBlock, convnextBlock } from '../../src/index.js';
import { Rng } from './random.js';
import { type Act, convfirst64, convnext64, type Shape4 } from './reference64.js';

export interface ConvNeXtCase { kind: 'convnext'; n: number; h: number; w: number; c: number; d: number; k: number;
  act: Act; layerScale: boolean }
export interface ConvFirstCase { kind: 'convfirst'; n: number; h: number; w: number; c: number; d: number; k: number;
  g: number; act: Act; residual: boolean }
export type BlockCase = ConvNeXtCase | ConvFirstCase;

export function caseName(t: BlockCase): string {
  const base = `${t.kind} N${t.n} ${t.h}x${t.w} C${t.c} D${t.d} k${t.k}`;
  return t.kind === 'convnext' ? `${base} ${t.act}${t.layerScale ? ' ls' : ''}` :
    `${base} G${t.g} ${t.act}${t.residual ? '' : ' no-residual'}`;
}

const ACTS: Act[] = ['gelu', 'gelu_tanh', 'silu', 'relu', 'relu6'];

/**
 * The foundation matrix: N up to 3, H and W from 1 to 17, C in {4, 12, 16, 40}, D in {C, 4C},
 * k in {3, 5, 7}, G in {1, 4, 8}, every activation, with and without layer scale / residual. Sizes are
 * drawn from rng so that each run covers other odd shapes.
 */
export function blockMatrix(rng: Rng, extraChannels: number[] = []): BlockCase[] {
  const cases: BlockCase[] = [];
  const channels = [4, 12, 16, 40, ...extraChannels];
  let i = 0;
  for (const c of channels) {
    for (const k of [3, 5, 7]) {
      const dMul = (i % 2 === 0) ? 4 : 1;
      const size = () => (i % 5 === 0 ? 1 : rng.int(2, 17));
      cases.push({ kind: 'convnext', n: 1 + (i % 3), h: size(), w: size(), c, d: dMul * c, k,
        act: ACTS[i % ACTS.length], layerScale: i % 2 === 0 });
      const groups = [1, 4, 8].filter((g) => c % g === 0);
      const g = groups[i % groups.length];
      cases.push({ kind: 'convfirst', n: 1 + ((i + 1) % 3), h: size(), w: size(), c, d: (5 - dMul) * c, k, g,
        act: ACTS[(i + 2) % ACTS.length], residual: i % 3 !== 1 });
      i++;
    }
  }
  return cases;
}

interface Prepared {
  inputs: Record<string, Float32Array>;
  shapes: Record<string, number[]>;
  expected: Float64Array;
  /** Longest chain of float32 sums behind one output: sets the tolerance. */
  depth: number;
}

/**
 * Well-scaled random weights (N(0, 1/fan_in)), so the branch matters as much as the residual. `editX` changes the
 * drawn input (non-finite cases) and `editWeights` the drawn weights (e.g. an outlier channel) before the oracle runs.
 */
export function prepareCase(t: BlockCase, rng: Rng, editX?: (x: Float32Array) => void,
  editWeights?: (weights: Record<string, Float32Array>) => void): Prepared {
  const { n, h, w, c, d, k } = t;
  const s: Shape4 = { n, h, w, c };
  const x = rng.normals(n * h * w * c);
  editX?.(x);
  const common = {
    w1: rng.normals(c * d, 1 / Math.sqrt(c)), b1: rng.normals(d, 0.1),
    w2: rng.normals(d * c, 1 / Math.sqrt(d)), b2: rng.normals(c, 0.1),
  };
  if (t.kind === 'convnext') {
    const wt = {
      dwFilter: rng.normals(k * k * c, 1 / k), dwBias: rng.normals(c, 0.1),
      lnGamma: rng.uniforms(c, 0.5, 1.5), lnBeta: rng.normals(c, 0.1), ...common,
      ...(t.layerScale ? { layerScale: rng.uniforms(c, 0.5, 1.0) } : {}),
    };
    editWeights?.(wt);
    const shapes: Record<string, number[]> = { x: [n, h, w, c], dwFilter: [k, k, c, 1], dwBias: [c], lnGamma: [c],
      lnBeta: [c], w1: [c, d], b1: [d], w2: [d, c], b2: [c], layerScale: [c] };
    return { inputs: { x, ...wt }, shapes, expected: convnext64(x, s, k, d, wt, 1e-6, t.act), depth: k * k + 2 * c + d };
  }
  const wt = { filter: rng.normals(k * k * t.g * c, 1 / (k * Math.sqrt(t.g))), bias: rng.normals(c, 0.1), ...common };
  editWeights?.(wt);
  const shapes: Record<string, number[]> = { x: [n, h, w, c], filter: [k, k, t.g, c], bias: [c], w1: [c, d], b1: [d],
    w2: [d, c], b2: [c] };
  return { inputs: { x, ...wt }, shapes, expected: convfirst64(x, s, k, t.g, d, wt, t.act, t.residual),
    depth: k * k * t.g + c + d };
}

/**
 * Float32 rounding over an accumulation of `depth` steps: rounding errors of random-signed terms grow like
 * sqrt(depth) (measured errors are ~1e-3 of the old linear bound 4 * 2^-23 * depth, which accepted a tanh GELU for
 * the exact one), with 8x headroom for reordered sums and approximate erf/exp.
 */
export function tolerance(depth: number, scale: number): number {
  return 8 * 2 ** -23 * Math.sqrt(depth) * Math.max(1, scale) + 1e-6;
}

export interface CaseResult { maxErr: number; tol: number; worstIndex: number }

/**
 * Max abs error against the oracle, thrown past the tolerance. A NaN where the oracle has a number fails; with
 * `nanWhereExpected`, the oracle's NaN outputs (a NaN input's reach) must be NaN too, and are not measured.
 */
export function compare(got: ArrayLike<number>, want: Float64Array, depth: number, label: string,
  nanWhereExpected = false): CaseResult {
  if (got.length !== want.length) throw new Error(`${label}: got ${got.length} values, want ${want.length}`);
  if (nanWhereExpected) {
    const finite = new Float64Array(want);
    const gotFinite = Float32Array.from(got);
    for (let i = 0; i < want.length; i++) {
      if (!Number.isNaN(want[i])) continue;
      if (!Number.isNaN(got[i])) throw new Error(`${label}: flat index ${i} should be NaN (the NaN input reaches it), got ${got[i]}`);
      finite[i] = 0;
      gotFinite[i] = 0;
    }
    return compare(gotFinite, finite, depth, label);
  }
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  const tol = tolerance(depth, scale);
  let maxErr = 0;
  let worstIndex = -1;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    // NaN (e.g. an unwritten, poisoned element) must fail, so compare with !(e <= max).
    if (!(e <= maxErr)) { maxErr = Number.isNaN(e) ? Infinity : e; worstIndex = i; }
  }
  if (!(maxErr <= tol)) {
    throw new Error(`${label}: max abs error ${maxErr} > tolerance ${tol} at flat index ${worstIndex} ` +
      `(got ${got[worstIndex]}, want ${want[worstIndex]})`);
  }
  return { maxErr, tol, worstIndex };
}

/** Done after a case's tensors are made, before the measured call (e.g. a compile-only pass of `run`, a tf.setBackend). */
export type WarmUp = (run: () => tf.Tensor) => Promise<void>;

/**
 * Runs one case with the package's op on the active backend; throws on mismatch or leaked tensors. `nanInput`: one
 * input element (drawn from the seed) is NaN, and every output the oracle makes NaN must be NaN (an activation
 * written as max(v, 0) turns it into 0 on GPUs), the rest must match.
 */
export async function runBlockCase(t: BlockCase, seed: number, nanInput = false,
  warmUp?: WarmUp): Promise<CaseResult> {
  const label = `${caseName(t)}${nanInput ? ' with a NaN input' : ''} on ${tf.getBackend()} (seed ${seed})`;
  const p = prepareCase(t, new Rng(seed), nanInput ? (x) => { x[seed % x.length] = Number.NaN; } : undefined);
  const before = tf.memory().numTensors;
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, data] of Object.entries(p.inputs)) tensors[name] = tf.tensor(data, p.shapes[name], 'float32');
  const { x, ...weights } = tensors;
  const run = () => t.kind === 'convnext' ?
    convnextBlock(x as tf.Tensor4D, weights as never, { activation: t.act }) :
    convfirstBlock(x as tf.Tensor4D, weights as never, { activation: t.act, residual: t.residual });
  await warmUp?.(run);
  const y = run();
  const got = await y.data();
  if (y.shape.join() !== [t.n, t.h, t.w, t.c].join()) throw new Error(`${label}: output shape ${y.shape}`);
  y.dispose();
  tf.dispose(Object.values(tensors));
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) throw new Error(`${label}: leaked ${leaked} tensors`);
  return compare(got, p.expected, p.depth, label, nanInput);
}

/** Small cases of each block kind and activation for the NaN check (a 7x7 conv spreads the NaN over the image). */
export function nanCases(): BlockCase[] {
  return ACTS.flatMap((act): BlockCase[] => [
    { kind: 'convnext', n: 2, h: 9, w: 11, c: 12, d: 48, k: 3, act, layerScale: true },
    { kind: 'convfirst', n: 1, h: 10, w: 7, c: 16, d: 64, k: 3, g: 8, act, residual: true },
  ]);
}
