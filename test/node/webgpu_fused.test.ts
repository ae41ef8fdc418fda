import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { explainKernel, FUSED_CONVFIRST_BLOCK, FUSED_CONVNEXT_BLOCK } from '../../src/index.js';
import { blockShaderKey, blockShaderSource, splitSumShaderKey, splitSumShaderSource }
  from '../../src/kernels/webgpu/block_wgsl.js';
import { effectiveLimits } from '../../src/kernels/webgpu/plan.js';
import { chooseTiling, DATACENTER_LIMITS, lastKernelDecision, MIN_SLICE_HIDDEN, setPoisonFusedOutputs, setTilingOverride,
  setWebGPUTilingLimits,
  SPLIT_BELOW_TILES,
  SWIFTSHADER_LIMITS, TARGET_WORKGROUPS, type TilingLimits } from '../../src/kernels/webgpu/index.js';
import { ACTIVATIONS } from '../../src/spec/activations.js';
import { convfirstSpec, convnextSpec } from '../../src/spec/block_spec.js';
import { type BlockCase, runBlockCase } from '../support/block_cases.js';
import { useBackend, webgpuUnavailableReason } from '../support/node_backends.js';
import { freshSeed, Rng } from '../support/random.js';
import { checkDispatchesAndCache, checkFallbackOnTinyLimits, checkGemmMlp, checkSplitDispatches, FORCED_TILINGS,
  GEMM_MLP_CASES, runForced,
  runWithProfile, wideCases } from '../support/webgpu_fused.js';

const STAGES = [[56, 96], [28, 192], [14, 384], [7, 768]];
const PROFILES: [string, TilingLimits][] = [['swiftshader', SWIFTSHADER_LIMITS], ['datacenter', DATACENTER_LIMITS]];

describe('webgpu tiling from adapter limits', () => {
  for (const [name, limits] of PROFILES) {
    for (const [hw, c] of STAGES) {
      for (const n of [1, 32]) {
        for (const kind of ['convnext', 'convfirst'] as const) {
          it(`${kind} N${n} ${hw}x${hw}x${c} fits the ${name} profile`, () => {
            const x = [n, hw, hw, c];
            const spec = kind === 'convnext' ?
              convnextSpec(x, [c, 4 * c], [7, 7, c, 1], { epsilon: 1e-6, activation: 'gelu' }, true) :
              convfirstSpec(x, [c, 4 * c], [3, 3, 8, c], { activation: 'gelu', residual: true });
            const choice = chooseTiling(spec, x, limits);
            assert.ok(choice.ok, choice.ok ? '' : choice.reason);
            const t = choice.tiling;
            assert.ok(t.storageBytes <= limits.maxComputeWorkgroupStorageSize, `${t.storageBytes} bytes`);
            assert.ok(t.workgroupSize <= limits.maxComputeInvocationsPerWorkgroup);
            assert.equal(spec.hidden % t.hiddenChunk, 0);
            // Every output vec4 of both matmuls is owned by exactly one thread.
            assert.equal(t.project.rows * t.project.threadRows, t.tilePixels);
            assert.equal(t.project.cols4 * t.project.threadCols, c / 4);
            assert.equal(t.expand.rows * t.expand.threadRows, t.tilePixels);
            assert.equal(t.expand.cols4 * t.expand.threadCols, t.hiddenChunk / 4);
            assert.ok(t.project.threadRows * t.project.threadCols <= t.workgroupSize);
            assert.ok(t.expand.threadRows * t.expand.threadCols <= t.workgroupSize);
            for (const m of [t.expand, t.project]) assert.equal(m.threadRows % m.laneRows, 0);
            if (t.expandSlice) assert.equal(c % t.expandSlice, 0);
            if (t.projectSlice) assert.equal(t.hiddenChunk % t.projectSlice, 0);
            // Split-hidden only below the workgroup target, whole chunks per slice, slices not too thin, and
            // the smallest split that reaches the target (or the most slices allowed).
            const tiles = Math.ceil(n * hw * hw / t.tilePixels);
            const chunks = spec.hidden / t.hiddenChunk;
            assert.equal(chunks % t.hiddenSplits, 0);
            if (t.pairedSplit) {
              // The paired rule: 4-pixel tiles would be 1-2 per SM; 8-pixel tiles and 2 slices instead.
              const fourPixelTiles = Math.ceil(n * hw * hw / 4);
              assert.ok(fourPixelTiles >= SPLIT_BELOW_TILES && fourPixelTiles < 2 * SPLIT_BELOW_TILES, `${fourPixelTiles}`);
              assert.deepEqual([t.tilePixels, t.hiddenSplits], [8, 2]);
            } else if (tiles >= SPLIT_BELOW_TILES) assert.equal(t.hiddenSplits, 1);
            else if (spec.hidden >= 2 * MIN_SLICE_HIDDEN) assert.ok(t.hiddenSplits > 1, 'too few tiles, not split');
            if (t.hiddenSplits > 1 && !t.pairedSplit) {
              assert.ok(spec.hidden / t.hiddenSplits >= MIN_SLICE_HIDDEN);
              const smaller = [...Array(t.hiddenSplits - 1).keys()].map((i) => i + 1).filter((s) => chunks % s === 0);
              for (const s of smaller) assert.ok(tiles * s < TARGET_WORKGROUPS, `S = ${s} would do`);
              const larger = [...Array(chunks).keys()].map((i) => i + 1)
                .filter((s) => s > t.hiddenSplits && chunks % s === 0 && spec.hidden / s >= MIN_SLICE_HIDDEN);
              if (tiles * t.hiddenSplits < TARGET_WORKGROUPS) assert.deepEqual(larger, []);
            }
          });
        }
      }
    }
  }
});

describe('explainKernel', () => {
  it('refuses what the ops refuse, naming it, instead of reporting it fused', () => {
    const ok = { x: [1, 14, 14, 64], filter: [7, 7, 64, 1], w1: [64, 256] };
    const bad: Array<[string, () => unknown, RegExp]> = [
      ['even k', () => explainKernel(FUSED_CONVNEXT_BLOCK, { ...ok, filter: [4, 4, 64, 1] }, {}, DATACENTER_LIMITS), /filter must be \[k, k, C, 1\] with k odd/],
      ['C mismatch', () => explainKernel(FUSED_CONVNEXT_BLOCK, { ...ok, w1: [32, 128] }, {}, DATACENTER_LIMITS), /w1 must be \[C = 64, D\]/],
      ['filter C mismatch', () => explainKernel(FUSED_CONVNEXT_BLOCK, { ...ok, filter: [7, 7, 32, 1] }, {}, DATACENTER_LIMITS), /does not fit C = 64/],
      ['rank-3 x', () => explainKernel(FUSED_CONVNEXT_BLOCK, { ...ok, x: [14, 14, 64] }, {}, DATACENTER_LIMITS), /x must be \[N, H, W, C\]/],
      ['NaN dims', () => explainKernel(FUSED_CONVNEXT_BLOCK, { ...ok, x: [1, Number.NaN, 14, 64] }, {}, DATACENTER_LIMITS), /x must be \[N, H, W, C\]/],
      ['unknown kernel', () => explainKernel('Nope' as never, ok, {}, DATACENTER_LIMITS), /kernel must be 'FusedConvNeXtBlock' or 'FusedConvFirstBlock', got "Nope"/],
      ['activation', () => explainKernel(FUSED_CONVNEXT_BLOCK, ok, { activation: 'bogus' as never }, DATACENTER_LIMITS), /unknown activation "bogus"/],
      ['epsilon', () => explainKernel(FUSED_CONVNEXT_BLOCK, ok, { epsilon: -1 }, DATACENTER_LIMITS), /epsilon must be a number in float32's normal range/],
      ['no limits', () => explainKernel(FUSED_CONVNEXT_BLOCK, ok, {}, undefined as never), /limits\.maxComputeWorkgroupStorageSize must be a positive integer/],
      ['G not dividing C', () => explainKernel(FUSED_CONVFIRST_BLOCK, { ...ok, filter: [3, 3, 6, 64] }, {}, DATACENTER_LIMITS), /does not fit C = 64/],
      ['tiling limits -5', () => setWebGPUTilingLimits({ maxComputeWorkgroupStorageSize: -5, maxComputeInvocationsPerWorkgroup: 256 }),
        /setWebGPUTilingLimits: limits\.maxComputeWorkgroupStorageSize must be a positive integer/],
      ['tiling limits string', () => setWebGPUTilingLimits('small' as never), /setWebGPUTilingLimits: limits\.maxComputeWorkgroupStorageSize/],
    ];
    for (const [name, call, message] of bad) assert.throws(call, message, name);
    assert.equal(explainKernel(FUSED_CONVNEXT_BLOCK, ok, {}, DATACENTER_LIMITS).fused, true, 'the valid call still plans');
  });
  it('reports the fused tiling for a ConvNeXt-T stage', () => {
    const e = explainKernel(FUSED_CONVNEXT_BLOCK, { x: [2, 56, 56, 96], filter: [7, 7, 96, 1], w1: [96, 384],
      layerScale: true }, {}, DATACENTER_LIMITS);
    assert.equal(e.fused, true);
    assert.equal(e.dispatches, 1);
    assert.match(e.reason, /^fused: \d+-pixel tiles/);
  });
  it('reports the split-hidden variant, and why, for a wide block with few pixels', () => {
    const e = explainKernel(FUSED_CONVNEXT_BLOCK, { x: [1, 7, 7, 768], filter: [7, 7, 768, 1], w1: [768, 3072],
      layerScale: true }, {}, DATACENTER_LIMITS);
    assert.equal(e.fused, true);
    assert.equal(e.variant, 'split-hidden');
    assert.equal(e.dispatches, 2);
    assert.ok(e.tiling!.hiddenSplits > 1);
    assert.equal(e.workgroups, Math.ceil(49 / e.tiling!.tilePixels) * e.tiling!.hiddenSplits);
    // The target, or as many slices as the minimum slice width allows.
    assert.ok(e.workgroups! >= TARGET_WORKGROUPS || e.tiling!.hiddenSplits === 3072 / MIN_SLICE_HIDDEN,
      `${e.workgroups} workgroups`);
    assert.match(e.reason, /^fused split-hidden: 13 tiles would launch fewer than \d+ workgroups/);
  });
  it('keeps the plain one-dispatch kernel when there is a tile per SM and the block is narrow or small', () => {
    for (const x of [[2, 56, 56, 96], [1, 56, 56, 96], [2, 28, 28, 192]]) {
      const c = x[3];
      const e = explainKernel(FUSED_CONVFIRST_BLOCK, { x, filter: [3, 3, 8, c], w1: [c, 4 * c] }, {}, DATACENTER_LIMITS);
      assert.equal(e.variant, 'plain', e.reason);
      assert.equal(e.dispatches, 1);
      assert.ok(e.workgroups! >= SPLIT_BELOW_TILES);
    }
  });
  it('pairs a doubled tile with 2 hidden splits for a wide block with 1-2 tiles per SM (N=1 28x28x192)', () => {
    for (const kernel of [FUSED_CONVNEXT_BLOCK, FUSED_CONVFIRST_BLOCK] as const) {
      const shapes = kernel === FUSED_CONVNEXT_BLOCK ?
        { x: [1, 28, 28, 192], filter: [7, 7, 192, 1], w1: [192, 768], layerScale: true } :
        { x: [1, 28, 28, 192], filter: [3, 3, 8, 192], w1: [192, 768] };
      const e = explainKernel(kernel, shapes, {}, DATACENTER_LIMITS);
      assert.equal(e.variant, 'split-hidden', e.reason);
      assert.deepEqual([e.tiling!.tilePixels, e.tiling!.hiddenSplits, e.workgroups, e.dispatches], [8, 2, 196, 2]);
      assert.match(e.reason, /^fused split-hidden \(paired\): 4-pixel tiles would be 1-2 per SM \(196\)/);
      // The A/B knob turns it off: the plain kernel on 196 4-pixel tiles.
      setTilingOverride({ pairedSplits: false });
      try {
        const off = explainKernel(kernel, shapes, {}, DATACENTER_LIMITS);
        assert.deepEqual([off.variant, off.tiling!.tilePixels, off.workgroups], ['plain', 4, 196]);
      } finally { setTilingOverride(null); }
    }
  });
  it('loops over the conv rows of grouped convs in the conv + norm dispatch only (N=32); the knob forces either', () => {
    for (const n of [1, 32]) {
      const convfirst = { x: [n, 28, 28, 192], filter: [3, 3, 8, 192], w1: [192, 768] };
      const convnext = { x: [n, 28, 28, 192], filter: [7, 7, 192, 1], w1: [192, 768], layerScale: true };
      /** [the block kernel's conv phase, gemm-mlp's conv + norm dispatch (N=32 only)] loop their rows. */
      const loops = (kernel: typeof FUSED_CONVNEXT_BLOCK | typeof FUSED_CONVFIRST_BLOCK, shapes: typeof convfirst) => {
        const e = explainKernel(kernel, shapes, {}, DATACENTER_LIMITS);
        assert.equal(e.gemm != null, n === 32, e.reason);
        return [e.tiling?.convRowLoop ?? false, e.gemm == null ? null : e.gemm.conv.convRowLoop ?? false];
      };
      assert.deepEqual(loops(FUSED_CONVFIRST_BLOCK, convfirst), [false, n === 32 ? true : null]);
      assert.deepEqual(loops(FUSED_CONVNEXT_BLOCK, convnext), [false, n === 32 ? false : null]);
      for (const forced of [true, false]) {
        setTilingOverride({ convRowLoop: forced });
        try {
          assert.deepEqual(loops(FUSED_CONVFIRST_BLOCK, convfirst), [forced, n === 32 ? forced : null]);
          assert.deepEqual(loops(FUSED_CONVNEXT_BLOCK, convnext), [forced, n === 32 ? forced : null]);
        } finally { setTilingOverride(null); }
      }
    }
  });
  it('picks gemm-mlp for blocks whose expand GEMM fills the GPU (every ConvNeXt-T stage at N=32)', () => {
    for (const x of [[32, 56, 56, 96], [32, 28, 28, 192], [32, 14, 14, 384], [32, 7, 7, 768], [16, 14, 14, 384]]) {
      const c = x[3];
      const e = explainKernel(FUSED_CONVNEXT_BLOCK, { x, filter: [7, 7, c, 1], w1: [c, 4 * c], layerScale: true }, {},
        DATACENTER_LIMITS);
      assert.equal(e.variant, 'gemm-mlp', e.reason);
      // 7x7x768 at N=32 and 14x14x384 at N=16: the project GEMM has 392 workgroups, so split-K and its summing dispatch.
      const split = x[1] * x[0] === 7 * 32 || x[1] * x[0] === 14 * 16;
      assert.equal(e.gemm?.projectSplits, split ? 2 : 1);
      assert.equal(e.dispatches, split ? 4 : 3);
      assert.match(e.reason, /^fused gemm-mlp: \d+ pixels give the expand GEMM \d+ workgroups/);
      assert.ok(e.gemm != null && (4 * c) % e.gemm.expand.bn === 0 && c % e.gemm.project.bn === 0);
      // Its conv + norm dispatch: 7-pixel strips (rows of 28, 14, 7), whole strips per tile, within the limits.
      const conv = e.gemm.conv;
      assert.equal(conv.convStrip, 7);
      assert.ok(conv.tilePixels % 7 === 0 && conv.storageBytes <= DATACENTER_LIMITS.maxComputeWorkgroupStorageSize &&
        conv.workgroupSize <= DATACENTER_LIMITS.maxComputeInvocationsPerWorkgroup, JSON.stringify(conv));
    }
    for (const x of [[1, 56, 56, 96], [1, 28, 28, 192], [1, 14, 14, 384], [1, 7, 7, 768], [2, 56, 56, 96]]) {
      const c = x[3];
      const e = explainKernel(FUSED_CONVNEXT_BLOCK, { x, filter: [7, 7, c, 1], w1: [c, 4 * c], layerScale: true }, {},
        DATACENTER_LIMITS);
      assert.notEqual(e.variant, 'gemm-mlp', `[${x}]: ${e.reason}`);
    }
  });
  it('keeps gemm-mlp\'s hidden tensor within the binding limit: the one-dispatch kernel where it would not fit', () => {
    // ConvNeXt-T 56x56x96 at N=32: hidden [100352, 384] is 154 MB, past the WebGPU default 128 MiB binding limit
    // (Dawn refuses the bind group, no dispatch runs and the block output stays unwritten).
    const shapes = { x: [32, 56, 56, 96], filter: [7, 7, 96, 1], w1: [96, 384], layerScale: true };
    const limit = (bytes: number) => ({ ...DATACENTER_LIMITS, maxStorageBufferBindingSize: bytes });
    assert.equal(explainKernel(FUSED_CONVNEXT_BLOCK, shapes, {}, limit(2 ** 30)).variant, 'gemm-mlp');
    const small = explainKernel(FUSED_CONVNEXT_BLOCK, shapes, {}, limit(2 ** 27));
    assert.equal(small.variant, 'plain', small.reason);
    assert.match(small.reason, /gemm-mlp's hidden tensor, 154140672 bytes, exceeds maxStorageBufferBindingSize 134217728/);
    // Forcing gemm-mlp does not make it bind either.
    setTilingOverride({ gemmMlp: true });
    try {
      assert.equal(explainKernel(FUSED_CONVNEXT_BLOCK, shapes, {}, limit(2 ** 27)).variant, 'plain');
    } finally { setTilingOverride(null); }
    // The kernels plan with the device's binding limit, or its maxBufferSize when smaller.
    const device = { limits: { ...SWIFTSHADER_LIMITS, maxStorageBufferBindingSize: 2 ** 28, maxBufferSize: 2 ** 27 } };
    assert.equal(effectiveLimits(device).maxStorageBufferBindingSize, 2 ** 27);
  });
  it('explains a fallback for channels that are not a multiple of 4', () => {
    const e = explainKernel(FUSED_CONVFIRST_BLOCK, { x: [1, 8, 8, 6], filter: [3, 3, 2, 6], w1: [6, 24] }, {},
      SWIFTSHADER_LIMITS);
    assert.equal(e.fused, false);
    assert.match(e.reason, /multiples of 4/);
  });
  it('explains a fallback when no tile fits the workgroup memory', () => {
    const e = explainKernel(FUSED_CONVNEXT_BLOCK, { x: [1, 7, 7, 768], filter: [7, 7, 768, 1], w1: [768, 3072] }, {},
      { maxComputeWorkgroupStorageSize: 2048, maxComputeInvocationsPerWorkgroup: 256 });
    assert.equal(e.fused, false);
    assert.match(e.reason, /maxComputeWorkgroupStorageSize/);
  });
  it('explains a fallback for an unsupported group width', () => {
    const e = explainKernel(FUSED_CONVFIRST_BLOCK, { x: [1, 8, 8, 24], filter: [3, 3, 3, 24], w1: [24, 96] }, {},
      DATACENTER_LIMITS);
    assert.equal(e.fused, false);
    assert.match(e.reason, /group width/);
  });
});

describe('WGSL generator', () => {
  it('puts everything baked into the text into the shader key', () => {
    const x = [1, 14, 14, 96];
    const base = convnextSpec(x, [96, 384], [7, 7, 96, 1], { epsilon: 1e-6, activation: 'gelu' }, true);
    const variants = [base, { ...base, k: 5 }, { ...base, epsilon: 1e-5 }, { ...base, hidden: 192 },
      ...ACTIVATIONS.filter((a) => a !== 'gelu').map((activation) => ({ ...base, activation })),
      { ...base, residual: false }, { ...base, groupWidth: 4 }, { ...base, norm: 'none' as const }];
    const keys = new Map<string, string>();
    for (const spec of variants) {
      const choice = chooseTiling(spec, x, DATACENTER_LIMITS);
      assert.ok(choice.ok);
      const key = blockShaderKey({ spec, tiling: choice.tiling });
      const source = blockShaderSource({ spec, tiling: choice.tiling });
      assert.doesNotMatch(source, /undefined|NaN/);
      if (keys.has(key)) assert.equal(keys.get(key), source, `same key ${key}, different WGSL`);
      keys.set(key, source);
    }
    assert.equal(keys.size, variants.length);
    // The conv rows' form (loop or written out) changes the text, so it is in the key.
    const choice = chooseTiling(base, x, DATACENTER_LIMITS);
    assert.ok(choice.ok);
    const forms = [false, true].map((convRowLoop) => ({ spec: base, tiling: { ...choice.tiling, convRowLoop } }));
    assert.notEqual(blockShaderSource(forms[0]), blockShaderSource(forms[1]));
    assert.notEqual(blockShaderKey(forms[0]), blockShaderKey(forms[1]));
  });
  it('split-hidden: the slice count is in both keys, and the text changes with it', () => {
    const x = [1, 7, 7, 96];
    const spec = convnextSpec(x, [96, 768], [7, 7, 96, 1], { epsilon: 1e-6, activation: 'gelu' }, true);
    const choice = chooseTiling(spec, x, DATACENTER_LIMITS);
    assert.ok(choice.ok);
    const texts = new Map<string, string>();
    for (const hiddenSplits of [1, 2, 3]) {
      const tiling = { ...choice.tiling, hiddenSplits };
      const source = blockShaderSource({ spec, tiling });
      assert.doesNotMatch(source, /undefined|NaN/);
      texts.set(blockShaderKey({ spec, tiling }), source);
      for (const s of [spec, { ...spec, residual: false }]) {
        texts.set(splitSumShaderKey(s, hiddenSplits, 64), splitSumShaderSource(s, hiddenSplits, 64));
      }
    }
    assert.equal(texts.size, 9);
    assert.equal(new Set(texts.values()).size, 9);
  });
});

const seed = freshSeed();
describe(`fused webgpu kernels through Dawn (seed ${seed})`, { skip: webgpuUnavailableReason() ?? false }, () => {
  const rng = new Rng(seed);
  it('one dispatch per block call; weight cache folds once and frees with the weights', async () => {
    await useBackend('webgpu');
    await checkDispatchesAndCache(rng);
  });
  it('split-hidden: two dispatches per call, matches float64 (poisoned partials and output), no leaks', async () => {
    await useBackend('webgpu');
    await checkSplitDispatches(rng, rng.int(1, 2 ** 30));
  });
  it('paired split (8-pixel tiles, D in 2 slices) as the rule picks it: matches float64, poisoned outputs, no leaks',
    async () => {
      await useBackend('webgpu');
      const cases: BlockCase[] = [
        { kind: 'convnext', n: 1, h: 24, w: 23, c: 144, d: 576, k: 7, act: 'gelu', layerScale: true },
        { kind: 'convfirst', n: 1, h: 23, w: 25, c: 136, d: 544, k: 3, g: 8, act: 'silu', residual: true },
      ];
      setPoisonFusedOutputs(true);
      try {
        for (const t of cases) {
          await runBlockCase(t, rng.int(1, 2 ** 30));
          const d = lastKernelDecision();
          assert.deepEqual([d?.variant, d?.tiling?.tilePixels, d?.tiling?.hiddenSplits, d?.tiling?.pairedSplit],
            ['split-hidden', 8, 2, true], d?.reason);
        }
      } finally {
        setPoisonFusedOutputs(false);
      }
    });
  for (const [name, limits] of PROFILES) {
    it(`wide ConvNeXt (plain) and ConvFirst (split-hidden) blocks with the ${name} profile's tiling, poisoned ` +
      'outputs', async () => {
      await useBackend('webgpu');
      setPoisonFusedOutputs(true);
      try {
        const cases = wideCases(rng);
        await runWithProfile(cases[0], limits, rng.int(1, 2 ** 30), 1);
        await runWithProfile(cases[3], limits, rng.int(1, 2 ** 30), 3);
      } finally {
        setPoisonFusedOutputs(false);
      }
    });
  }
  it('forced tilings: prefetched weight slices, row-major and 2-row lanes, unrolled loops, 8- and 2-pixel conv ' +
    'strips, poisoned outputs',
    async () => {
      await useBackend('webgpu');
      setPoisonFusedOutputs(true);
      try {
        for (const forced of FORCED_TILINGS.filter((f) => f.prefetch)) {
          await runForced({ kind: 'convnext', n: 2, h: 5, w: 17, c: 48, d: 192, k: 7, act: 'gelu', layerScale: true },
            forced, rng.int(1, 2 ** 30));
        }
      } finally {
        setPoisonFusedOutputs(false);
      }
    });
  for (const [name, limits] of PROFILES) {
    it(`gemm-mlp variant (forced) with the ${name} profile: 3 dispatches, poisoned outputs, float64, no leaks`,
      async () => {
        await useBackend('webgpu');
        for (const t of GEMM_MLP_CASES) await checkGemmMlp(t, limits, rng.int(1, 2 ** 30));
      });
  }
  it('gemm-mlp with forced GEMM tiles (32 x 64 project, 128 x 64 expand, 8 x 4 per thread)', async () => {
    await useBackend('webgpu');
    await checkGemmMlp(GEMM_MLP_CASES[0], DATACENTER_LIMITS, rng.int(1, 2 ** 30),
      { gemmExpand: { bm: 128, bn: 64, bk: 8, tm: 8, tn4: 2 }, gemmProject: { bm: 32, bn: 64, bk: 16, tm: 4, tn4: 2 } });
    await checkGemmMlp(GEMM_MLP_CASES[2], SWIFTSHADER_LIMITS, rng.int(1, 2 ** 30),
      { gemmProject: { bm: 64, bn: 64, bk: 16, tm: 8, tn4: 1 } });
    // Consecutive rows per thread, read as vec4s from workgroup memory.
    await checkGemmMlp(GEMM_MLP_CASES[3], SWIFTSHADER_LIMITS, rng.int(1, 2 ** 30),
      { gemmExpand: { bm: 64, bn: 64, bk: 16, tm: 4, tn4: 2, rowVec4: true },
        gemmProject: { bm: 64, bn: 64, bk: 8, tm: 8, tn4: 1, rowVec4: true } });
  });
  it('gemm-mlp with unrolled GEMM steps (2-D workgroup arrays; rowVec4 and strided rows, split-K, warp layouts, both profiles)', async () => {
    await useBackend('webgpu');
    await checkGemmMlp(GEMM_MLP_CASES[3], SWIFTSHADER_LIMITS, rng.int(1, 2 ** 30),
      { gemmExpand: { bm: 64, bn: 64, bk: 16, tm: 4, tn4: 2, rowVec4: true, unrolled: true },
        gemmProject: { bm: 32, bn: 64, bk: 8, tm: 8, tn4: 1, rowVec4: true, unrolled: true } });
    await checkGemmMlp(GEMM_MLP_CASES[5], DATACENTER_LIMITS, rng.int(1, 2 ** 30), { gemmProjectSplits: 3,
      gemmExpand: { bm: 64, bn: 128, bk: 16, tm: 4, tn4: 2, rowVec4: true, unrolled: true },
      gemmProject: { bm: 32, bn: 96, bk: 16, tm: 4, tn4: 3, rowVec4: true, unrolled: true } });
    await checkGemmMlp(GEMM_MLP_CASES[2], SWIFTSHADER_LIMITS, rng.int(1, 2 ** 30), { gemmProjectSplits: 2,
      gemmExpand: { bm: 64, bn: 64, bk: 16, tm: 4, tn4: 2, unrolled: true },
      gemmProject: { bm: 32, bn: 64, bk: 16, tm: 4, tn4: 2, unrolled: true } });
    // Warp-shaped thread layouts (laneRows): 8 x 4 and 4 x 8 lanes per warp, a split project.
    await checkGemmMlp(GEMM_MLP_CASES[5], SWIFTSHADER_LIMITS, rng.int(1, 2 ** 30), { gemmProjectSplits: 2,
      gemmExpand: { bm: 64, bn: 128, bk: 16, tm: 4, tn4: 2, rowVec4: true, unrolled: true, laneRows: 4 },
      gemmProject: { bm: 32, bn: 96, bk: 16, tm: 4, tn4: 3, rowVec4: true, unrolled: true, laneRows: 4 } });
    await checkGemmMlp(GEMM_MLP_CASES[0], DATACENTER_LIMITS, rng.int(1, 2 ** 30),
      { gemmExpand: { bm: 64, bn: 128, bk: 16, tm: 4, tn4: 2, rowVec4: true, unrolled: true, laneRows: 8 } });
  });
  it('conv strips with their rows as a loop (convRowLoop): one-dispatch, split-hidden and gemm-mlp, grouped and depthwise', async () => {
    await useBackend('webgpu');
    // gemm-mlp's conv + norm dispatch (7-pixel depthwise strips, a partial last tile; ConvFirst's grouped 4-pixel strips).
    await checkGemmMlp(GEMM_MLP_CASES[3], SWIFTSHADER_LIMITS, rng.int(1, 2 ** 30), { convRowLoop: true });
    await checkGemmMlp(GEMM_MLP_CASES[1], DATACENTER_LIMITS, rng.int(1, 2 ** 30), { convRowLoop: true });
    // The fused kernels' conv phase: depthwise 7x7 with rows cut at the image edges, grouped 3x3, split in 3.
    for (const [t, forced] of [
      [{ kind: 'convnext', n: 2, h: 5, w: 8, c: 48, d: 192, k: 7, act: 'gelu', layerScale: true },
        { tilePixels: 8, hiddenSplits: 1, convRowLoop: true }],
      [{ kind: 'convfirst', n: 1, h: 6, w: 8, c: 64, d: 256, k: 3, g: 8, act: 'silu', residual: true },
        { tilePixels: 16, hiddenSplits: 2, convRowLoop: true }],
    ] as const) {
      setWebGPUTilingLimits(DATACENTER_LIMITS);
      try { await runForced(t, forced, rng.int(1, 2 ** 30)); } finally { setWebGPUTilingLimits(null); }
    }
  });
  it('gemm-mlp picks the 64 x 128 expand tile and a 96-wide project tile where they divide (C = 96, 192)', async () => {
    await useBackend('webgpu');
    for (const [t, projectRows] of [[GEMM_MLP_CASES[5], 64], [GEMM_MLP_CASES[6], 32]] as const) {
      // The tiles depend on C and D only: the N=32 stage shows them; the small case runs them (forced).
      const d = explainKernel(FUSED_CONVNEXT_BLOCK, { x: [32, 56, 56, t.c], filter: [7, 7, t.c, 1], w1: [t.c, t.d],
        layerScale: true }, {}, DATACENTER_LIMITS);
      assert.deepEqual([d.gemm?.expand.bn, d.gemm?.project.bm, d.gemm?.project.bn], [128, projectRows, 96]);
      // 8 x 8 per thread on the expand tile only where the reduction is deep (C >= 192) and the GEMM is busy.
      assert.equal(d.gemm?.expand.tm, t.c >= 192 ? 8 : 4);
      await checkGemmMlp(t, DATACENTER_LIMITS, rng.int(1, 2 ** 30));
    }
  });
  it('gemm-mlp expand tile: 8 x 8 per thread at ConvNeXt-T 28x28 and 14x14 (N=32), 4 x 8 at 7x7 and 56x56', () => {
    const expandTm = (n: number, h: number, c: number) => explainKernel(FUSED_CONVNEXT_BLOCK, { x: [n, h, h, c],
      filter: [7, 7, c, 1], w1: [c, 4 * c], layerScale: true }, {}, DATACENTER_LIMITS).gemm?.expand.tm;
    // Workgroups of the 64 x 128 tile: 2352 and 1176 (>= 1056), 600 at 7x7x768; C = 96 has 6 reduction steps.
    assert.deepEqual([expandTm(32, 56, 96), expandTm(32, 28, 192), expandTm(32, 14, 384), expandTm(32, 7, 768)],
      [4, 8, 8, 4]);
  });
  it('gemm-mlp with split-K project GEMMs (2, 3, 4 splits, a partial row tile, forced tiles)', async () => {
    await useBackend('webgpu');
    const rv = { bk: 16, tm: 4, rowVec4: true };
    // D = 256 in 2 and 4 parts of 16-deep steps; D = 768 in 3 (32 x 96 tiles, 64 threads); D = 384 in 4 with rows
    // 9 + 9 + 9 of 64 (a partial tile in every split).
    await checkGemmMlp(GEMM_MLP_CASES[0], DATACENTER_LIMITS, rng.int(1, 2 ** 30), { gemmProjectSplits: 2 });
    await checkGemmMlp(GEMM_MLP_CASES[3], SWIFTSHADER_LIMITS, rng.int(1, 2 ** 30), { gemmProjectSplits: 4 });
    await checkGemmMlp(GEMM_MLP_CASES[6], DATACENTER_LIMITS, rng.int(1, 2 ** 30), { gemmProjectSplits: 3 });
    await checkGemmMlp(GEMM_MLP_CASES[5], SWIFTSHADER_LIMITS, rng.int(1, 2 ** 30), { gemmProjectSplits: 4,
      gemmExpand: { bm: 64, bn: 128, tn4: 2, ...rv }, gemmProject: { bm: 64, bn: 96, tn4: 3, ...rv } });
    // Strided rows (no rowVec4).
    await checkGemmMlp(GEMM_MLP_CASES[2], SWIFTSHADER_LIMITS, rng.int(1, 2 ** 30), { gemmProjectSplits: 2,
      gemmProject: { bm: 32, bn: 64, bk: 16, tm: 4, tn4: 2 } });
  });
  it('gemm-mlp split-K: a split that does not divide D into whole steps is refused (the project runs unsplit)', () => {
    const explain = () => explainKernel(FUSED_CONVNEXT_BLOCK, { x: [32, 14, 14, 384], filter: [7, 7, 384, 1],
      w1: [384, 1536], layerScale: true }, {}, DATACENTER_LIMITS);
    try {
      for (const [forced, want] of [[5, 1], [7, 1], [0, 1], [4, 4], [2, 2]]) {
        setTilingOverride({ gemmMlp: true, gemmProjectSplits: forced });
        const d = explain();
        assert.equal(d.gemm?.projectSplits, want, `forced ${forced}`);
        assert.equal(d.dispatches, want > 1 ? 4 : 3);
        if (want > 1) assert.match(d.reason, new RegExp(`split ${want} ways`));
      }
    } finally {
      setTilingOverride(null);
    }
    // The rule: split only a project GEMM below the workgroup target (7x7x768 at N=32: 392 workgroups -> 2 splits).
    const rule = (hw: number, c: number) => explainKernel(FUSED_CONVNEXT_BLOCK, { x: [32, hw, hw, c],
      filter: [7, 7, c, 1], w1: [c, 4 * c], layerScale: true }, {}, DATACENTER_LIMITS);
    assert.deepEqual([56, 28, 14, 7].map((hw, i) => rule(hw, 96 * 2 ** i).gemm?.projectSplits), [1, 1, 1, 2]);
    assert.equal(rule(7, 768).dispatches, 4);
  });
  it('gemm-mlp conv + norm dispatch with forced tiles: 64 threads, a tile not a multiple of the strip', async () => {
    await useBackend('webgpu');
    await checkGemmMlp(GEMM_MLP_CASES[3], DATACENTER_LIMITS, rng.int(1, 2 ** 30), { convWorkgroupSize: 64 });
    await checkGemmMlp(GEMM_MLP_CASES[4], SWIFTSHADER_LIMITS, rng.int(1, 2 ** 30), { convTilePixels: 10 });
  });
  it('falls back with a reason when no tile fits', async () => {
    await useBackend('webgpu');
    await checkFallbackOnTinyLimits(rng.int(1, 2 ** 30));
  });
});
