/**
 * Gradients on a GPU backend against cpu's, for node tests (webgpu through Dawn) and karma specs (webgl, webgpu):
 * the gradients run the ops' reference compositions with each backend's stock ops, so cpu is their oracle there,
 * and the forward outputs (the fused kernels on the GPU) are compared too. Environment-neutral: no node imports.
 */
import * as tf from '@tensorflow/tfjs-core';
import { classifierHead, convfirstBlock, convnextBlock, patchConv } from '../../src/index.js';
import { type BlockCase, caseName, prepareCase } from './block_cases.js';
import type { Rng } from './random.js';

/** Block cases small enough for finite differences: both kinds, odd sizes, with and without layer scale / residual. */
export const GRADIENT_BLOCK_CASES: BlockCase[] = [
  { kind: 'convnext', n: 2, h: 3, w: 4, c: 4, d: 8, k: 3, act: 'gelu', layerScale: true },
  { kind: 'convnext', n: 1, h: 2, w: 3, c: 4, d: 4, k: 5, act: 'gelu_tanh', layerScale: false },
  { kind: 'convfirst', n: 2, h: 3, w: 3, c: 8, d: 8, k: 3, g: 4, act: 'silu', residual: true },
  { kind: 'convfirst', n: 1, h: 4, w: 2, c: 4, d: 8, k: 3, g: 1, act: 'gelu', residual: false },
];

/** One computation to compare: `run` makes its tensors from fixed values and returns the outputs `names`. */
export interface GradientRun { name: string; names: string[]; run: () => tf.Tensor[] }

/** The forward output and the gradients of sum(op(xs) * r) with respect to every input. */
function withGradients(name: string, inputNames: string[], values: Float32Array[], shapes: number[][], r: Float32Array,
  op: (xs: tf.Tensor[]) => tf.Tensor): GradientRun {
  return {
    name, names: ['y', ...inputNames.map((n) => `d${n}`)],
    run: () => {
      const xs = values.map((v, i) => tf.tensor(v, shapes[i]));
      const y = op(xs);
      const rt = tf.tensor(r, y.shape);
      return [y, ...tf.grads((...vs: tf.Tensor[]) => tf.sum(tf.mul(op(vs), rt)))(xs)];
    },
  };
}

/** Every op with a gradient: the block cases, a patchConv with a pre-norm, a classifierHead; values from `rng`. */
export function gradientRuns(rng: Rng): GradientRun[] {
  const blocks = GRADIENT_BLOCK_CASES.map((t) => {
    const p = prepareCase(t, rng);
    const names = Object.keys(p.inputs);
    return withGradients(caseName(t), names, names.map((n) => p.inputs[n]), names.map((n) => p.shapes[n]),
      rng.normals(t.n * t.h * t.w * t.c), (xs) => {
        const { x, ...w } = Object.fromEntries(names.map((n, i) => [n, xs[i]]));
        return t.kind === 'convnext' ? convnextBlock(x as tf.Tensor4D, w as never, { activation: t.act }) :
          convfirstBlock(x as tf.Tensor4D, w as never, { activation: t.act, residual: t.residual });
      });
  });
  const patch = withGradients('patchConv 2x2 stride 2, pre-norm, x [2, 6, 5, 3]', ['x', 'filter', 'bias', 'gamma', 'beta'],
    [rng.normals(180, 1.5, 0.3), rng.normals(60, 0.3), rng.normals(5, 0.1), rng.normals(3, 0.5, 1), rng.normals(3, 0.1)],
    [[2, 6, 5, 3], [2, 2, 3, 5], [5], [3], [3]], rng.normals(2 * 3 * 2 * 5),
    ([x, w, b, g, be]) => patchConv(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D,
      { preNorm: { gamma: g, beta: be, epsilon: 1e-3 } }));
  const head = withGradients('classifierHead x [2, 3, 2, 5], 4 classes', ['x', 'gamma', 'beta', 'weight', 'bias'],
    [rng.normals(60, 1.5, 0.3), rng.normals(5, 0.5, 1), rng.normals(5, 0.1), rng.normals(20, 0.5), rng.normals(4, 0.1)],
    [[2, 3, 2, 5], [5], [5], [5, 4], [4]], rng.normals(8),
    ([x, g, b, w, bias]) => classifierHead(x as tf.Tensor4D, g, b, w, bias, { epsilon: 1e-3 }));
  return [...blocks, patch, head];
}

/**
 * Runs `c` on cpu, then on `backend` (each made current by `use`), and returns what differs: an output off cpu's by
 * more than `rel` of its largest cpu magnitude (at least 1), or tensors left alive on `backend`. Empty: the same.
 */
export async function sameAsCpuProblems(use: (backend: string) => Promise<void>, backend: string, c: GradientRun,
  rel = 1e-4): Promise<string[]> {
  await use('cpu');
  const expected = await readAll(tf.tidy(c.run));
  await use(backend);
  const before = tf.memory().numTensors;
  const actual = await readAll(tf.tidy(c.run));
  const problems = tf.memory().numTensors === before ? [] : [`${tf.memory().numTensors - before} tensors leaked on ${backend}`];
  c.names.forEach((name, i) => {
    const scale = Math.max(1, ...Array.from(expected[i], Math.abs));
    let diff = 0;
    for (let j = 0; j < expected[i].length; j++) diff = Math.max(diff, Math.abs(actual[i][j] - expected[i][j]));
    // A NaN diff is a problem too (the comparison is false).
    if (!(diff <= rel * scale)) problems.push(`${name}: max |${backend} - cpu| ${diff} (scale ${scale})`);
  });
  return problems;
}

/** The values of `tensors`, which are disposed. */
async function readAll(tensors: tf.Tensor[]): Promise<Float32Array[]> {
  const out = await Promise.all(tensors.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(tensors);
  return out;
}
