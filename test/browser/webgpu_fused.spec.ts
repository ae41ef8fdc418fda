/**
 * The fused WebGPU block kernels in Chromium (SwiftShader adapter: 32 KiB, 256 invocations) against the
 * float64 oracle, with every output poisoned (NaN) before the dispatch so unwritten elements fail.
 */
import '../../src/index.js';
import { blockMatrix, type BlockCase, caseName, runBlockCase } from '../support/block_cases.js';
import { useBackend } from '../support/browser_backends.js';
import { freshSeed, Rng } from '../support/random.js';
import { checkDispatchesAndCache, checkFallbackOnTinyLimits, checkGemmMlp, checkSplitDispatches, DATACENTER_LIMITS,
  FALLBACK_CASE, FORCED_TILINGS, GEMM_MLP_CASES, runForced, runWithProfile, setPoisonFusedOutputs, SWIFTSHADER_LIMITS, wideCases } from '../support/webgpu_fused.js';
import { lastKernelDecision } from '../../src/index.js';

const seed = freshSeed();

describe(`fused webgpu block kernels vs float64 (seed ${seed})`, () => {
  const rng = new Rng(seed);
  beforeEach(async () => {
    await useBackend('webgpu');
    setPoisonFusedOutputs(true);
  });
  afterEach(() => setPoisonFusedOutputs(false));

  const expectFused = () => {
    const d = lastKernelDecision();
    if (!d?.fused) throw new Error(`expected the fused kernel, got: ${d?.reason}`);
  };

  for (const t of [...blockMatrix(rng), ...wideCases(rng)]) {
    it(`${caseName(t)} (fused, poisoned output)`, async () => {
      await runBlockCase(t, rng.int(1, 2 ** 30));
      expectFused();
    });
  }

  // The gemm-mlp variant (conv + norm, then two GEMMs through device memory), forced on small shapes.
  for (const [name, profile] of [['swiftshader', SWIFTSHADER_LIMITS], ['datacenter', DATACENTER_LIMITS]] as const) {
    for (const t of GEMM_MLP_CASES) {
      it(`${caseName(t)} as gemm-mlp with the ${name} profile (3 dispatches, poisoned outputs)`, async () => {
        await checkGemmMlp(t, profile, rng.int(1, 2 ** 30));
      });
    }
    // Split-K project GEMM (partials, then the sum with b2' and the residual): 4 dispatches.
    for (const [t, splits] of [[GEMM_MLP_CASES[0], 2], [GEMM_MLP_CASES[6], 3], [GEMM_MLP_CASES[5], 4]] as const) {
      it(`${caseName(t)} as gemm-mlp with a ${splits}-way split project GEMM, the ${name} profile`, async () => {
        await checkGemmMlp(t, profile, rng.int(1, 2 ** 30), { gemmProjectSplits: splits });
      });
    }
  }

  // Both limit profiles: the exact tiling each selects; a 48 KiB tiling that cannot fit this adapter must
  // fall back with a reason (checked inside runWithProfile), never run wrong.
  const profileCases: BlockCase[] = [wideCases(rng)[0], wideCases(rng)[3], blockMatrix(rng)[7]];
  for (const [name, profile] of [['swiftshader', SWIFTSHADER_LIMITS], ['datacenter', DATACENTER_LIMITS]] as const) {
    for (const t of profileCases) {
      it(`${caseName(t)} with the ${name} profile's tiling`, async () => {
        await runWithProfile(t, profile, rng.int(1, 2 ** 30));
      });
    }
    // The wide cases above pick the split-hidden variant on their few pixels: also run them one-dispatch.
    it(`${caseName(profileCases[0])} with the ${name} profile's plain (one-dispatch) tiling`, async () => {
      await runWithProfile(profileCases[0], profile, rng.int(1, 2 ** 30), 1);
    });
  }

  const forcedCase: BlockCase = { kind: 'convfirst', n: 2, h: 7, w: 9, c: 48, d: 192, k: 3, g: 4, act: 'gelu',
    residual: true };
  // Depthwise (strip conv path; 9 is not a multiple of the 4-pixel strip) and grouped conv.
  const forcedCases: BlockCase[] = [forcedCase, { kind: 'convnext', n: 2, h: 7, w: 9, c: 48, d: 192, k: 7,
    act: 'gelu', layerScale: true }];
  for (const t of forcedCases) {
    for (const forced of FORCED_TILINGS) {
      it(`${caseName(t)} with forced tiling ${JSON.stringify(forced)}`, async () => {
        await runForced(t, forced, rng.int(1, 2 ** 30));
      });
    }
  }

  it('one dispatch per block call; weights folded once per weight set and freed with them', async () => {
    await checkDispatchesAndCache(rng);
  });

  it('split-hidden: two dispatches per call, poisoned partials, matches float64, no leaks', async () => {
    await checkSplitDispatches(rng, rng.int(1, 2 ** 30));
  });

  it(`${caseName(FALLBACK_CASE)} falls back (C not a multiple of 4) and matches`, async () => {
    await runBlockCase(FALLBACK_CASE, rng.int(1, 2 ** 30));
    const d = lastKernelDecision();
    expect(d?.fused).toBe(false);
    expect(d?.reason).toMatch(/multiples of 4/);
  });

  it('falls back with a reason when no tile fits the limits', async () => {
    await checkFallbackOnTinyLimits(rng.int(1, 2 ** 30));
  });

});
