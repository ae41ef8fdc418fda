/**
 * The block and patch conv benchmarks' tensors (bench/support/bench_tensors.ts) leave nothing behind: bench and
 * bench:patch-conv make them for every shape and batch, so each stray intermediate piled up over a run.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { blockWeights, maxAbsDiffFrom, patchConvWeights } from '../../bench/support/bench_tensors.js';

/** Tensors alive after `work` minus before it. */
async function leftBehind(work: () => Promise<void> | void): Promise<number> {
  const before = tf.memory().numTensors;
  await work();
  return tf.memory().numTensors - before;
}

describe('bench tensors: numTensors stays flat', () => {
  before(async () => { await tf.setBackend('cpu'); });

  it('blockWeights: only the weights it returns, for both block kinds', async () => {
    for (const op of ['convnext', 'convfirst'] as const) {
      assert.equal(await leftBehind(() => tf.dispose(Object.values(blockWeights(op, 16, 64)))), 0, op);
    }
  });
  it('blockWeights: a ConvNeXt LayerNorm gamma around 1', () => {
    const w = blockWeights('convnext', 16, 64);
    const mean = tf.mean(w.lnGamma);
    assert.ok(Math.abs(mean.dataSync()[0] - 1) < 0.1);
    tf.dispose([mean, ...Object.values(w)]);
  });
  it('patchConvWeights: only the weights it returns', async () => {
    assert.equal(await leftBehind(() => tf.dispose(Object.values(patchConvWeights(2, 8, 16)))), 0);
  });
  it('maxAbsDiffFrom: the largest difference, every intermediate disposed', async () => {
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.tensor1d([1, 2.5, 1]);
    let diff = NaN;
    assert.equal(await leftBehind(async () => { diff = await maxAbsDiffFrom(() => tf.add(a, 0), () => tf.add(b, 0)); }), 0);
    assert.equal(diff, 2);
    tf.dispose([a, b]);
  });
});
