/**
 * ENGINE_COMPILE_ONLY (tfjs's parallel-compile warm-up) as the first call of a weight set whose tensors are on the
 * GPU already (computed by ops, e.g. a folded BatchNorm, or assigned by an optimizer): nothing executes then, so the
 * weights must not be read back and cached (a readSync would return, and cache on the weight tensors, values of
 * programs that never ran).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import { convfirstBlock, convnextBlock } from '../../src/index.js';
import { type BlockCase, caseName, compare, prepareCase } from '../support/block_cases.js';
import { useBackend } from '../support/browser_backends.js';
import { freshSeed, Rng } from '../support/random.js';

const seed = freshSeed();

describe(`webgl fused blocks after a compile-only warm-up, GPU-resident weights (seed ${seed})`, () => {
  beforeEach(async () => { await useBackend('webgl'); });
  const cases: BlockCase[] = [
    { kind: 'convnext', n: 2, h: 5, w: 7, c: 10, d: 22, k: 3, act: 'gelu', layerScale: true },
    { kind: 'convfirst', n: 2, h: 5, w: 7, c: 12, d: 20, k: 3, g: 4, act: 'silu', residual: true },
  ];
  for (const t of cases) {
    it(`matches float64 and leaves the weights intact: ${caseName(t)}`, async () => {
      const p = prepareCase(t, new Rng(seed));
      const x = tf.tensor4d(p.inputs.x, p.shapes.x as [number, number, number, number]);
      const weights: Record<string, tf.Tensor> = {};
      for (const [name, data] of Object.entries(p.inputs)) {
        if (name === 'x') continue;
        const cpu = tf.tensor(data, p.shapes[name]);
        weights[name] = tf.add(cpu, tf.zerosLike(cpu)); // computed on the GPU, no CPU copy
        cpu.dispose();
      }
      const run = () => t.kind === 'convnext' ? convnextBlock(x, weights as never, { activation: t.act }) :
        convfirstBlock(x, weights as never, { activation: t.act, residual: t.residual });
      const backend = tf.backend() as MathBackendWebGL;
      tf.env().set('ENGINE_COMPILE_ONLY', true);
      try { run().dispose(); } finally { tf.env().set('ENGINE_COMPILE_ONLY', false); }
      backend.checkCompileCompletion();
      backend.getUniformLocations();
      const y = run();
      compare(await y.data(), p.expected, p.depth, caseName(t));
      for (const [name, w] of Object.entries(weights)) {
        expect(Array.from(await w.data())).withContext(`weights.${name}`).toEqual(Array.from(p.inputs[name]));
      }
      tf.dispose([y, x, ...Object.values(weights)]);
    });
  }
});
