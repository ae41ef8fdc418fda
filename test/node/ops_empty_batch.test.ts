// An empty batch (N = 0) through patchConv and classifierHead: an empty output of the right shape on every backend
// (as cpu gives and as the block ops do), nothing leaked.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { classifierHead, patchConv } from '../../src/index.js';
import { useBackend, webgpuUnavailableReason } from '../support/node_backends.js';

for (const backend of ['cpu', 'wasm', 'webgpu'] as const) {
  const skip = backend === 'webgpu' ? webgpuUnavailableReason() ?? false : false;
  describe(`empty batch on ${backend}`, { skip }, () => {
    it('patchConv with N = 0 (GEMM and direct paths, pre- and post-norm) gives [0, Ho, Wo, Cout]', async () => {
      await useBackend(backend);
      const x = tf.zeros([0, 8, 8, 4]) as tf.Tensor4D;
      const made: tf.Tensor[] = [x];
      const t = <T extends tf.Tensor>(v: T) => { made.push(v); return v; };
      const cases: Array<[string, () => tf.Tensor, number[]]> = [];
      for (const [k, cout] of [[4, 32], [2, 32], [2, 6]]) {
        const filter = t(tf.ones([k, k, 4, cout]) as tf.Tensor4D);
        const bias = t(tf.zeros([cout]) as tf.Tensor1D);
        const pre = { gamma: t(tf.ones([4])), beta: t(tf.zeros([4])) };
        const post = { gamma: t(tf.ones([cout])), beta: t(tf.zeros([cout])) };
        const shape = [0, 8 / k, 8 / k, cout];
        cases.push([`k${k} Cout ${cout}`, () => patchConv(x, filter, bias), shape]);
        cases.push([`k${k} Cout ${cout} preNorm`, () => patchConv(x, filter, bias, { preNorm: pre }), shape]);
        cases.push([`k${k} Cout ${cout} postNorm`, () => patchConv(x, filter, null, { postNorm: post }), shape]);
      }
      const before = tf.memory().numTensors;
      for (const [name, run, shape] of cases) {
        const y = run();
        assert.deepEqual(y.shape, shape, name);
        assert.equal((await y.data()).length, 0, name);
        y.dispose();
      }
      assert.equal(tf.memory().numTensors, before, 'no tensors leaked');
      tf.dispose(made);
    });
    it('classifierHead with N = 0 gives [0, K]', async () => {
      await useBackend(backend);
      const args = [tf.zeros([0, 3, 3, 8]), tf.ones([8]), tf.zeros([8]), tf.ones([8, 10]), tf.zeros([10])];
      const before = tf.memory().numTensors;
      const y = classifierHead(args[0] as tf.Tensor4D, args[1], args[2], args[3], args[4]);
      assert.deepEqual(y.shape, [0, 10]);
      assert.equal((await y.data()).length, 0);
      y.dispose();
      assert.equal(tf.memory().numTensors, before, 'no tensors leaked');
      tf.dispose(args);
    });
  });
}
