import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
// Stock op gradients come with the umbrella package, as in any TF.js training app.
import '@tensorflow/tfjs';
import { classifierHead, convfirstBlock, convnextBlock, layerNorm, patchConv } from '../../src/index.js';
import { type BlockCase, caseName, prepareCase } from '../support/block_cases.js';
import { classifierHead64 } from '../support/classifier_head_cases.js';
import { layerNorm64 } from '../support/layer_norm_cases.js';
import { patchConv64 } from '../support/patch_conv_cases.js';
import { useBackend, webgpuUnavailableReason } from '../support/node_backends.js';
import { GRADIENT_BLOCK_CASES, gradientRuns, sameAsCpuProblems } from '../support/gradient_cases.js';
import { freshSeed, Rng } from '../support/random.js';
import { convfirst64, convnext64 } from '../support/reference64.js';

const seed = freshSeed();

/** float64 loss sum(y * r) of the oracle, for central finite differences. */
function loss64(t: BlockCase, inputs: Record<string, Float64Array>, r: Float32Array): number {
  const s = { n: t.n, h: t.h, w: t.w, c: t.c };
  const y = t.kind === 'convnext' ?
    convnext64(inputs.x as never, s, t.k, t.d, inputs as never, 1e-6, t.act) :
    convfirst64(inputs.x as never, s, t.k, t.g, t.d, inputs as never, t.act, t.residual);
  let sum = 0;
  for (let i = 0; i < y.length; i++) sum += y[i] * r[i];
  return sum;
}

/**
 * Compares autodiff gradients with central finite differences of a float64 loss: at `samples(length)` random
 * entries of each input, perturbed in place by +-h and restored.
 */
function expectFiniteDifferences(o: { analytic: ArrayLike<number>[]; inputs: Float64Array[]; names: string[];
  loss: () => number; h: number; samples: (length: number) => number; tol: number; rng: Rng }): void {
  o.inputs.forEach((v, ni) => {
    for (let s = 0; s < o.samples(v.length); s++) {
      const i = o.rng.int(0, v.length - 1);
      const keep = v[i];
      v[i] = keep + o.h; const up = o.loss();
      v[i] = keep - o.h; const down = o.loss();
      v[i] = keep;
      const fd = (up - down) / (2 * o.h);
      const got = o.analytic[ni][i];
      assert.ok(Math.abs(got - fd) <= o.tol * (1 + Math.abs(fd)),
        `d loss / d ${o.names[ni]}[${i}]: autodiff ${got} vs finite difference ${fd}`);
    }
  });
}

describe(`op gradients vs float64 finite differences (seed ${seed})`, () => {
  before(async () => { await useBackend('cpu'); });
  for (const t of GRADIENT_BLOCK_CASES) {
    it(caseName(t), () => {
      const rng = new Rng(seed);
      const p = prepareCase(t, rng);
      const r = rng.normals(t.n * t.h * t.w * t.c);
      const names = Object.keys(p.inputs);
      const before = tf.memory().numTensors;
      const analytic = tf.tidy(() => {
        const f = (...xs: tf.Tensor[]) => {
          const m = Object.fromEntries(names.map((n, i) => [n, xs[i]]));
          const { x, ...w } = m;
          const y = t.kind === 'convnext' ? convnextBlock(x as tf.Tensor4D, w as never, { activation: t.act }) :
            convfirstBlock(x as tf.Tensor4D, w as never, { activation: t.act, residual: t.residual });
          return tf.sum(tf.mul(y, tf.tensor(r, y.shape)));
        };
        const xs = names.map((n) => tf.tensor(p.inputs[n], p.shapes[n]));
        return tf.grads(f)(xs).map((g) => g.dataSync());
      });
      assert.equal(tf.memory().numTensors, before, 'gradient computation leaked tensors');
      const base = Object.fromEntries(names.map((n) => [n, Float64Array.from(p.inputs[n])]));
      expectFiniteDifferences({ analytic, inputs: names.map((n) => base[n]), names, loss: () => loss64(t, base, r),
        h: 1e-4, samples: (length) => Math.min(6, length), tol: 2e-3, rng });
    });
  }
});

describe(`layerNorm gradient vs float64 finite differences (seed ${seed})`, () => {
  before(async () => { await useBackend('cpu'); });
  it('x [2, 3, 7], gamma, beta (through the reference composition)', () => {
    const rng = new Rng(seed);
    const shape = [2, 3, 7];
    const c = 7;
    const inputs = [rng.normals(42, 1.5, 0.3), rng.normals(c, 0.5, 1), rng.normals(c, 0.1)];
    const shapes = [shape, [c], [c]];
    const r = rng.normals(42);
    const eps = 1e-3;
    const before = tf.memory().numTensors;
    const analytic = tf.tidy(() => {
      const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(layerNorm(x, g, b, { epsilon: eps }), tf.tensor(r, shape)));
      return tf.grads(f as (...xs: tf.Tensor[]) => tf.Tensor)(inputs.map((v, i) => tf.tensor(v, shapes[i])))
        .map((g) => g.dataSync());
    });
    assert.equal(tf.memory().numTensors, before, 'gradient computation leaked tensors');
    const base = inputs.map((v) => Float64Array.from(v));
    const loss = () => {
      const y = layerNorm64(Float32Array.from(base[0]), c, Float32Array.from(base[1]), Float32Array.from(base[2]), eps);
      return y.reduce((s, v, i) => s + v * r[i], 0);
    };
    // The oracle takes float32 inputs: steps well above their rounding.
    expectFiniteDifferences({ analytic, inputs: base, names: base.map((_, i) => `input ${i}`), loss, h: 1e-2,
      samples: () => 5, tol: 5e-3, rng });
  });
});

describe(`classifierHead gradient vs float64 finite differences (seed ${seed})`, () => {
  before(async () => { await useBackend('cpu'); });
  it('x [2, 3, 2, 5], gamma, beta, weight [5, 4], bias (through the reference composition)', () => {
    const rng = new Rng(seed);
    const t = { n: 2, h: 3, w: 2, c: 5, k: 4 };
    const shapes = [[2, 3, 2, 5], [5], [5], [5, 4], [4]];
    const inputs = [rng.normals(60, 1.5, 0.3), rng.normals(5, 0.5, 1), rng.normals(5, 0.1), rng.normals(20, 0.5),
      rng.normals(4, 0.1)];
    const r = rng.normals(8);
    const eps = 1e-3;
    const before = tf.memory().numTensors;
    const analytic = tf.tidy(() => {
      const f = (...xs: tf.Tensor[]) => tf.sum(tf.mul(classifierHead(xs[0] as tf.Tensor4D, xs[1], xs[2], xs[3], xs[4],
        { epsilon: eps }), tf.tensor(r, [2, 4])));
      return tf.grads(f)(inputs.map((v, i) => tf.tensor(v, shapes[i]))).map((g) => g.dataSync());
    });
    assert.equal(tf.memory().numTensors, before, 'gradient computation leaked tensors');
    const base = inputs.map((v) => Float64Array.from(v));
    const loss = () => {
      const [x, g, b, w, bias] = base.map((v) => Float32Array.from(v));
      return classifierHead64(x, t, g, b, w, bias, eps).reduce((s, v, i) => s + v * r[i], 0);
    };
    expectFiniteDifferences({ analytic, inputs: base, names: ['x', 'gamma', 'beta', 'weight', 'bias'], loss, h: 1e-2,
      samples: () => 5, tol: 5e-3, rng });
  });
});

describe(`patchConv gradient vs float64 finite differences (seed ${seed})`, () => {
  before(async () => { await useBackend('cpu'); });
  it('x [2, 5, 4, 3], filter, bias, preNorm gamma / beta (through the reference composition)', () => {
    const rng = new Rng(seed);
    const c = { n: 2, h: 5, w: 4, cin: 3, cout: 5, k: 2, preNorm: true, bias: true };
    const shapes = [[2, 5, 4, 3], [2, 2, 3, 5], [5], [3], [3]];
    const inputs = [rng.normals(120, 1.5, 0.3), rng.normals(60, 0.3), rng.normals(5, 0.1), rng.normals(3, 0.5, 1),
      rng.normals(3, 0.1)];
    const r = rng.normals(2 * 2 * 2 * 5);
    const eps = 1e-3;
    const before = tf.memory().numTensors;
    const analytic = tf.tidy(() => {
      const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, g: tf.Tensor, be: tf.Tensor) =>
        tf.sum(tf.mul(patchConv(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D,
          { preNorm: { gamma: g, beta: be, epsilon: eps } }), tf.tensor(r, [2, 2, 2, 5])));
      return tf.grads(f as (...xs: tf.Tensor[]) => tf.Tensor)(inputs.map((v, i) => tf.tensor(v, shapes[i])))
        .map((g) => g.dataSync());
    });
    assert.equal(tf.memory().numTensors, before, 'gradient computation leaked tensors');
    const base = inputs.map((v) => Float64Array.from(v));
    const loss = () => {
      const [x, w, b, g, be] = base.map((v) => Float32Array.from(v));
      const y = patchConv64(x, c, w, b, { gamma: g, beta: be, epsilon: eps });
      return y.reduce((s, v, i) => s + v * r[i], 0);
    };
    expectFiniteDifferences({ analytic, inputs: base, names: base.map((_, i) => `input ${i}`), loss, h: 1e-2,
      samples: () => 4, tol: 5e-3, rng });
  });
});

describe(`op gradients on webgpu equal cpu's (seed ${seed})`, { skip: webgpuUnavailableReason() ?? false }, () => {
  // The README says the gradients run on webgpu: the forward is the fused kernel there, the backward the reference
  // composition with stock webgpu ops.
  for (const c of gradientRuns(new Rng(seed))) {
    it(c.name, async () => {
      assert.deepEqual(await sameAsCpuProblems((b) => useBackend(b as 'cpu' | 'webgpu'), 'webgpu', c), []);
    });
  }
});
