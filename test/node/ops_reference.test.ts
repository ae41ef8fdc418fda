import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { convfirstBlock, convnextBlock } from '../../src/index.js';
import { blockMatrix, caseName, nanCases, runBlockCase } from '../support/block_cases.js';
import { useBackend, webgpuUnavailableReason } from '../support/node_backends.js';
import { freshSeed, Rng } from '../support/random.js';

const seed = freshSeed();

for (const backend of ['cpu', 'wasm', 'webgpu'] as const) {
  const skip = backend === 'webgpu' ? webgpuUnavailableReason() ?? false : false;
  describe(`block ops on ${backend} vs float64 (seed ${seed})`, { skip }, () => {
    const rng = new Rng(seed);
    for (const t of blockMatrix(rng)) {
      it(caseName(t), async () => {
        await useBackend(backend);
        await runBlockCase(t, rng.int(1, 2 ** 30));
      });
    }
    // wasm runs the reference (stock ops), and tfjs-backend-wasm's own Relu6 and ClipByValue turn NaN into 0
    // (tf.relu6([NaN]) is [0] there): the op matches stock on that backend, so relu6 is not held to NaN there.
    it('an empty batch or image (N, H or W = 0) gives an empty output of that shape', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const c = 8;
      const wt = { w1: tf.ones([c, 16]), b1: tf.zeros([16]), w2: tf.ones([16, c]), b2: tf.zeros([c]) };
      const next = { ...wt, dwFilter: tf.ones([3, 3, c, 1]), dwBias: tf.zeros([c]), lnGamma: tf.ones([c]), lnBeta: tf.zeros([c]) };
      const first = { ...wt, filter: tf.ones([3, 3, 4, c]), bias: tf.zeros([c]) };
      for (const shape of [[0, 5, 5, c], [2, 0, 5, c], [1, 4, 0, c]] as [number, number, number, number][]) {
        const x = tf.zeros(shape) as tf.Tensor4D;
        for (const y of [convnextBlock(x, next), convfirstBlock(x, first)]) {
          assert.deepEqual(y.shape, shape);
          assert.equal((await y.data()).length, 0);
          y.dispose();
        }
        x.dispose();
      }
      tf.dispose([...Object.values(next), first.filter, first.bias]);
      assert.equal(tf.memory().numTensors, before);
    });
    for (const t of nanCases().filter((c) => !(backend === 'wasm' && c.act === 'relu6'))) {
      it(`${caseName(t)}: a NaN input stays NaN where it reaches`, async () => {
        await useBackend(backend);
        await runBlockCase(t, rng.int(1, 2 ** 30), true);
      });
    }
  });
}

describe('backend independence', () => {
  it('ops run on a backend registered under a new name', async () => {
    const { MathBackendCPU } = await import('@tensorflow/tfjs-backend-cpu');
    // An app-defined backend: the stock cpu kernels under another name, and none of ours.
    tf.registerBackend('cpu-renamed', () => new MathBackendCPU());
    for (const k of tf.getKernelsForBackend('cpu')) {
      if (!k.kernelName.startsWith('Fused')) tf.registerKernel({ ...k, backendName: 'cpu-renamed' });
    }
    await tf.setBackend('cpu-renamed');
    try {
      const rng = new Rng(seed);
      await runBlockCase(blockMatrix(rng)[1], seed);
    } finally {
      await tf.setBackend('cpu');
      tf.removeBackend('cpu-renamed');
    }
  });
});
