/**
 * FusedClassifierHead in Chromium: webgl (the reference composition: the head is tiny, no fused GLSL program)
 * and webgpu (one dispatch, SwiftShader adapter) against the float64 oracle on small odd shapes, bad inputs,
 * tensor accounting, and on webgpu one dispatch per call with a poisoned output.
 */
import { setPoisonFusedOutputs } from '../../src/kernels/webgpu/index.js';
import { GPU_BACKENDS, useBackend } from '../support/browser_backends.js';
import { checkBadHeadInputs, checkHeadDispatches, checkHeadFallback, type HeadCase, headName, runHeadCase }
  from '../support/classifier_head_cases.js';
import { freshSeed, Rng } from '../support/random.js';

const seed = freshSeed();
const CASES: HeadCase[] = [
  { n: 1, h: 3, w: 3, c: 36, k: 1000 }, { n: 3, h: 1, w: 7, c: 20, k: 13 }, { n: 2, h: 7, w: 1, c: 96, k: 10 },
];

for (const backend of GPU_BACKENDS) {
  describe(`classifierHead on ${backend} vs float64 (seed ${seed})`, () => {
    const rng = new Rng(seed);
    beforeEach(async () => {
      await useBackend(backend);
      // webgpu: NaN-filled outputs, so an element the kernel does not write fails the comparison.
      setPoisonFusedOutputs(backend === 'webgpu');
    });
    afterEach(() => setPoisonFusedOutputs(false));
    for (const t of CASES) {
      it(headName(t), async () => {
        await runHeadCase(t, rng.int(1, 2 ** 30));
      });
    }
    it('epsilon 0.1, and bad inputs raise errors naming the problem and leak nothing', async () => {
      await runHeadCase({ n: 2, h: 2, w: 3, c: 20, k: 12 }, rng.int(1, 2 ** 30), 0.1);
      checkBadHeadInputs();
    });
  });
}

describe(`classifierHead on webgpu: dispatches and fallback (seed ${seed})`, () => {
  it('one dispatch per call, poisoned output, no leaks; the reference when C does not fit workgroup memory', async () => {
    await useBackend('webgpu');
    await checkHeadDispatches(seed);
    await checkHeadFallback(seed);
  });
});
