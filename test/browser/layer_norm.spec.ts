/**
 * FusedLayerNorm in Chromium: webgl (two draws) and webgpu (one dispatch, SwiftShader adapter) against the
 * float64 oracle on odd shapes, bad inputs, tensor accounting, and the passes each call runs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { layerNorm } from '../../src/index.js';
import { setPoisonFusedOutputs } from '../../src/kernels/webgpu/index.js';
import { GPU_BACKENDS, useBackend } from '../support/browser_backends.js';
import { checkBadLayerNormInputs, checkLayerNormDispatches, layerNormShapes, runLayerNormCase }
  from '../support/layer_norm_cases.js';
import { freshSeed, Rng } from '../support/random.js';
import { recordPasses } from '../support/webgl_passes.js';

const seed = freshSeed();

for (const backend of GPU_BACKENDS) {
  describe(`layerNorm on ${backend} vs float64 (seed ${seed})`, () => {
    const rng = new Rng(seed);
    beforeEach(async () => {
      await useBackend(backend);
      // webgpu: NaN-filled outputs, so an element the kernel does not write fails the comparison.
      setPoisonFusedOutputs(backend === 'webgpu');
    });
    afterEach(() => setPoisonFusedOutputs(false));
    for (const shape of layerNormShapes(rng)) {
      it(`[${shape.join(', ')}]`, async () => {
        await runLayerNormCase(shape, rng.int(1, 2 ** 30));
      });
    }
    it('a rank-5 x (webgl: the reference composition) and epsilon 0.1', async () => {
      await runLayerNormCase([2, 1, 2, 3, 9], rng.int(1, 2 ** 30));
      await runLayerNormCase([3, 4, 12], rng.int(1, 2 ** 30), 0.1);
    });
    it('bad inputs raise errors naming the problem and leak nothing', () => {
      checkBadLayerNormInputs();
    });
  });
}

describe(`layerNorm passes per call (seed ${seed})`, () => {
  it('webgpu: one dispatch per call, poisoned output, no leaks', async () => {
    await useBackend('webgpu');
    await checkLayerNormDispatches(seed);
  });

  it('webgl: two draws (statistics, normalization) per call, nothing else', async () => {
    await useBackend('webgl');
    const rng = new Rng(seed);
    for (const shape of [[3, 5, 96], [4, 7, 13], [2, 3, 2, 1030]]) {
      const c = shape[shape.length - 1];
      const x = tf.tensor(rng.normals(shape.reduce((a, b) => a * b, 1)), shape);
      const [gamma, beta] = [tf.tensor1d(rng.normals(c)), tf.tensor1d(rng.normals(c))];
      const warm = layerNorm(x, gamma, beta); // uploads happen here, not in the count
      await warm.data();
      warm.dispose();
      const before = tf.memory().numTensors;
      const { result: y, draws, programs } = recordPasses(() => layerNorm(x, gamma, beta));
      expect(programs).toEqual(['LayerNormStatsProgram', 'LayerNormApplyProgram']);
      expect(draws).toBe(2);
      await y.data();
      y.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, gamma, beta]);
    }
  });
});
