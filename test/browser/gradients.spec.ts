/**
 * Op gradients on webgl and webgpu in Chromium equal cpu's (the README says they run there): the forward is the
 * fused kernel, the backward the ops' reference composition with the backend's stock ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// Stock op gradients, which the reference compositions' backward runs (what `import '@tensorflow/tfjs'` registers).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { gradientRuns, sameAsCpuProblems } from '../support/gradient_cases.js';
import { GPU_BACKENDS, type GpuBackend, useBackend } from '../support/browser_backends.js';
import { freshSeed, Rng } from '../support/random.js';

const seed = freshSeed();
const use = async (b: string): Promise<void> => {
  if (b !== 'cpu') return useBackend(b as GpuBackend);
  await tf.setBackend('cpu');
};

for (const backend of GPU_BACKENDS) {
  describe(`op gradients on ${backend} equal cpu's (seed ${seed})`, () => {
    for (const c of gradientRuns(new Rng(seed))) {
      it(c.name, async () => {
        expect(await sameAsCpuProblems(use, backend, c)).toEqual([]);
      });
    }
  });
}
