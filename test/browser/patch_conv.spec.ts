/**
 * FusedPatchConv in Chromium: webgl (the reference composition: layerNorm, conv2d, add) and webgpu (the fused
 * kernel, SwiftShader adapter, both limit profiles) against the float64 oracle on odd shapes, bad inputs,
 * tensor accounting, dispatches and the cached weight fold, the split-K form with forced S, and the GEMM path
 * (FusedLayerNorm + the shared GEMM over gathered patches) with forced S.
 */
import { patchConvCases, patchCaseName, checkBadPatchConvInputs, checkPatchConvDispatches, patchConvSplitCases,
  runPatchConvCase, runPatchConvProfile, runPatchConvSplits, runPatchGemmCases } from '../support/patch_conv_cases.js';
import { DATACENTER_LIMITS, setPoisonFusedOutputs, SWIFTSHADER_LIMITS } from '../../src/kernels/webgpu/index.js';
import { GPU_BACKENDS, useBackend } from '../support/browser_backends.js';
import { freshSeed, Rng } from '../support/random.js';

const seed = freshSeed();

for (const backend of GPU_BACKENDS) {
  describe(`patchConv on ${backend} vs float64 (seed ${seed})`, () => {
    const rng = new Rng(seed);
    beforeEach(async () => {
      await useBackend(backend);
      // webgpu: NaN-filled outputs, so an element the kernel does not write fails the comparison.
      setPoisonFusedOutputs(backend === 'webgpu');
    });
    afterEach(() => setPoisonFusedOutputs(false));
    for (const c of patchConvCases(rng)) {
      it(patchCaseName(c), async () => {
        await runPatchConvCase(c, rng.int(1, 2 ** 30));
      });
    }
    it('bad inputs raise errors naming the problem and leak nothing', () => {
      checkBadPatchConvInputs();
    });
  });
}

describe(`webgpu FusedPatchConv kernel in Chromium (seed ${seed})`, () => {
  const rng = new Rng(seed);
  const cases = patchConvCases(rng).slice(2, 5);
  beforeEach(async () => { await useBackend('webgpu'); });
  for (const [name, profile] of [['swiftshader', SWIFTSHADER_LIMITS], ['datacenter', DATACENTER_LIMITS]] as const) {
    it(`${name} limits: default and forced tilings, poisoned outputs`, async () => {
      await runPatchConvProfile(cases, profile, seed);
    });
  }
  it('one dispatch per call, the pre-norm fold once per weight set, nothing leaked', async () => {
    await checkPatchConvDispatches(seed);
  });
  for (const [name, profile] of [['swiftshader', SWIFTSHADER_LIMITS], ['datacenter', DATACENTER_LIMITS]] as const) {
    it(`${name} limits: the GEMM path with forced S, poisoned, exact dispatches, nothing leaked`, async () => {
      await runPatchGemmCases(profile, seed);
    });
  }
  // Split-K: the odd cases (scalar Cout, straddling splits, K past the last slice) under both profiles, kept to
  // three cases here (the node suite runs all five).
  for (const [name, profile] of [['swiftshader', SWIFTSHADER_LIMITS], ['datacenter', DATACENTER_LIMITS]] as const) {
    it(`${name} limits: split-K with forced S, poisoned partials and output, 2 dispatches, nothing leaked`, async () => {
      await runPatchConvSplits(patchConvSplitCases().slice(0, 3), profile, seed);
    });
  }
});
