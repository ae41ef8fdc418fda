// FusedClassifierHead: the op on cpu, wasm and webgpu (Dawn on SwiftShader) against float64, bad inputs, the
// webgpu plan within both limit profiles and its fallback, and one dispatch per call.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import '../../src/index.js';
import { DATACENTER_LIMITS, planClassifierHead, setPoisonFusedOutputs, SWIFTSHADER_LIMITS }
  from '../../src/kernels/webgpu/index.js';
import { checkBadHeadInputs, checkHeadDispatches, checkHeadFallback, headCases, headName, runHeadCase,
  runHeadWithLimits } from '../support/classifier_head_cases.js';
import { useBackend, webgpuUnavailableReason } from '../support/node_backends.js';
import { freshSeed, Rng } from '../support/random.js';

const seed = freshSeed();

for (const backend of ['cpu', 'wasm', 'webgpu'] as const) {
  const skip = backend === 'webgpu' ? webgpuUnavailableReason() ?? false : false;
  describe(`classifierHead on ${backend} vs float64 (seed ${seed})`, { skip }, () => {
    const rng = new Rng(seed);
    // webgpu: NaN-filled outputs, so an element the kernel does not write fails the comparison.
    beforeEach(() => setPoisonFusedOutputs(backend === 'webgpu'));
    afterEach(() => setPoisonFusedOutputs(false));
    for (const t of headCases(rng)) {
      it(headName(t), async () => {
        await useBackend(backend);
        await runHeadCase(t, rng.int(1, 2 ** 30));
      });
    }
    it('epsilon 0.1 (large enough to matter) and bad inputs naming the problem, nothing leaked', async () => {
      await useBackend(backend);
      await runHeadCase({ n: 2, h: 3, w: 3, c: 20, k: 10 }, rng.int(1, 2 ** 30), 0.1);
      checkBadHeadInputs();
    });
  });
}

describe('webgpu classifier head plan', () => {
  it('fits both limit profiles for every C up to the fallback, R images sharing weight reads', () => {
    for (const limits of [SWIFTSHADER_LIMITS, DATACENTER_LIMITS]) {
      for (const n of [1, 3, 32]) {
        for (let c = 1; c <= 20000; c += c < 200 ? 1 : 37) {
          const choice = planClassifierHead({ n, hw: 49, c, k: 1000 }, limits);
          if (!choice.ok) {
            assert.ok(4 * (c + 256) > limits.maxComputeWorkgroupStorageSize, `C ${c}: fell back though one row fits`);
            assert.match(choice.reason, /maxComputeWorkgroupStorageSize/);
            continue;
          }
          const p = choice.plan;
          assert.ok(p.storageBytes <= limits.maxComputeWorkgroupStorageSize, `C ${c}: storage`);
          assert.ok(p.workgroupSize <= limits.maxComputeInvocationsPerWorkgroup);
          assert.equal(p.threadsPerRow * p.rows, p.workgroupSize);
          assert.equal(Math.log2(p.threadsPerRow) % 1, 0, 'threads per row: a power of two (tree reduction)');
          assert.ok(p.rowGroups * p.rows >= n && (p.rowGroups - 1) * p.rows < n);
          assert.ok(p.columnSlices * p.workgroupSize >= p.kUnits);
          assert.equal(p.kUnits * p.components, 1000);
        }
      }
    }
    // ConvNeXt-T's head at batch 32: 8 images per workgroup on both profiles.
    for (const limits of [SWIFTSHADER_LIMITS, DATACENTER_LIMITS]) {
      const p = planClassifierHead({ n: 32, hw: 49, c: 768, k: 1000 }, limits);
      assert.ok(p.ok && p.plan.rows === 8 && p.plan.workgroups === 4 && p.plan.components === 4);
    }
  });
});

describe(`webgpu FusedClassifierHead (seed ${seed})`, { skip: webgpuUnavailableReason() ?? false }, () => {
  it('one program per call (vec4 / scalar K, row groups, column slices), poisoned output, no leaks', async () => {
    await useBackend('webgpu');
    await checkHeadDispatches(seed);
  });
  it('both limit profiles (SwiftShader 32 KiB / 256, datacenter 48 KiB / 1024) and the fallback', async () => {
    await useBackend('webgpu');
    for (const limits of [SWIFTSHADER_LIMITS, DATACENTER_LIMITS]) {
      await runHeadWithLimits({ n: 3, h: 3, w: 1, c: 96, k: 13 }, limits, seed);
      await runHeadWithLimits({ n: 9, h: 2, w: 2, c: 36, k: 1000 }, limits, seed);
    }
    await checkHeadFallback(seed);
  });
});
