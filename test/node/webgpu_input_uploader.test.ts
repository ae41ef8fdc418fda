// WebGPUInputUploader on webgpu (Dawn on SwiftShader): the uploaded tensor holds exactly the values, across
// sizes (one element, odd counts, a resize) and back-to-back uploads issued before earlier copies finish;
// tensors are accounted for; bad use names the problem.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { WebGPUInputUploader } from '../../src/index.js';
import { useBackend, webgpuUnavailableReason } from '../support/node_backends.js';
import { freshSeed, Rng } from '../support/random.js';

const seed = freshSeed();

describe(`WebGPUInputUploader (seed ${seed})`, { skip: webgpuUnavailableReason() ?? false }, () => {
  const rng = new Rng(seed);

  it('uploads exact values for odd sizes, resizes, and many uploads in flight', async () => {
    await useBackend('webgpu');
    const before = tf.memory().numTensors;
    const uploader = new WebGPUInputUploader();
    try {
      for (const shape of [[1], [3, 5, 7], [2, 9, 11, 3], [3, 5, 7]]) {
        // Five uploads before any read: later uploads must not overwrite what earlier tensors hold.
        const inputs = Array.from({ length: 5 }, () => Float32Array.from(rng.normals(tf.util.sizeFromShape(shape))));
        const tensors = inputs.map((v) => uploader.upload(v, shape));
        for (const [i, t] of tensors.entries()) {
          assert.deepEqual(t.shape, shape);
          assert.equal(t.dtype, 'float32');
          assert.deepEqual(await t.data(), inputs[i], `upload ${i} of shape [${shape}]`);
        }
        // A kernel consumes it like any webgpu tensor.
        const doubled = tf.mul(tensors[4], 2);
        assert.deepEqual(await doubled.data(), inputs[4].map((v) => 2 * v));
        tf.dispose([doubled, ...tensors]);
      }
    } finally {
      uploader.dispose();
    }
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  });

  it('names the problem on bad use', async () => {
    await useBackend('webgpu');
    const uploader = new WebGPUInputUploader();
    assert.throws(() => uploader.upload(new Float32Array(5), [2, 3]), /5 values do not fill shape \[2,3\] \(6 elements\)/);
    // Other arrays were staged element-wise or as raw bytes depending on which path was free: refused, named.
    for (const values of [new Int32Array(3), new Float64Array(3), [1, 2, 3]]) {
      assert.throws(() => uploader.upload(values as never, [3]), /values must be a Float32Array, got (Int32Array|Float64Array|Array)/);
    }
    for (const shape of [[-2, -3], [1.5, 4], [Number.NaN, 3]]) {
      assert.throws(() => uploader.upload(new Float32Array(6), shape), /shape must be non-negative integers/);
    }
    const before = tf.memory().numTensors;
    const empty = uploader.upload(new Float32Array(0), [0, 3]);
    assert.deepEqual([empty.shape, (await empty.data()).length], [[0, 3], 0], 'an empty upload reads back nothing');
    empty.dispose();
    assert.equal(tf.memory().numTensors, before);
    uploader.dispose();
    assert.throws(() => uploader.upload(new Float32Array(6), [2, 3]), /after dispose/);
    const gpuBackend = tf.backend();
    await useBackend('cpu');
    assert.throws(() => new WebGPUInputUploader(), /needs the webgpu backend \(given: cpu\)/);
    await useBackend('webgpu');
    assert.throws(() => new WebGPUInputUploader(tf.findBackend('cpu')!), /needs the webgpu backend \(given: MathBackendCPU\)/);
    assert.ok(new WebGPUInputUploader(gpuBackend), 'the webgpu backend passed explicitly');
  });
});
