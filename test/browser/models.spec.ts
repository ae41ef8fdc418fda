import * as tf from '@tensorflow/tfjs-core';
import '../../src/index.js';
import { MODEL_FAMILIES } from '../../models/index.js';
import { GPU_BACKENDS, useBackend } from '../support/browser_backends.js';
import { compareLogits, loadSmall, seededImages, SMALL } from '../support/model_cases.js';
import { freshSeed } from '../support/random.js';

const seed = freshSeed();

for (const backend of GPU_BACKENDS) {
  describe(`models on ${backend}: fused vs unfused (seed ${seed})`, () => {
    for (const family of MODEL_FAMILIES) {
      it(`${family}-${SMALL.variant} ${SMALL.inputSize}x${SMALL.inputSize} batch ${SMALL.batch}`, async () => {
        await useBackend(backend);
        const fused = await loadSmall(family, { fused: true, seed });
        const unfused = await loadSmall(family, { fused: false, seed });
        const x = seededImages(seed + 1);
        const before = tf.memory().numTensors;
        const yf = fused.model.predict(x) as tf.Tensor;
        // The unfused grouped conv takes its Reshape shapes from Shape -> StridedSlice -> ConcatV2, and
        // tfjs-converter reads a Reshape's shape synchronously: on webgpu that read only works for tensors
        // still on the CPU, which WEBGPU_CPU_FORWARD (true by default, false in tests) keeps them on.
        // Only the shape arithmetic is affected: every other op has a GPU-resident input.
        if (backend === 'webgpu') tf.env().set('WEBGPU_CPU_FORWARD', true);
        let yu: tf.Tensor;
        try {
          yu = unfused.model.predict(x) as tf.Tensor;
        } finally {
          if (backend === 'webgpu') tf.env().set('WEBGPU_CPU_FORWARD', false);
        }
        expect(yf.shape).toEqual([SMALL.batch, 1000]);
        const failure = compareLogits(await yf.data() as Float32Array, await yu.data() as Float32Array);
        expect(failure).toBeNull();
        tf.dispose([yf, yu]);
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose(x);
        fused.model.dispose();
        unfused.model.dispose();
      });
    }
  });
}
