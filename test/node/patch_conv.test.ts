// FusedPatchConv: the op on cpu, wasm and webgpu (Dawn on SwiftShader) against float64, bad inputs, the webgpu
// kernel under both limit profiles with forced tilings, dispatches and the weight fold cache, the converter
// pass on small graphs, and a built ConvNeXt on webgpu with and without patch convs.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '../../src/index.js';
import { fuseBlocks } from '../../src/converter/fusion.js';
import type { Graph } from '../../src/converter/ir.js';
import { GraphBuilder } from '../../src/converter/ir_builder.js';
import { choosePatchConvSplits, DATACENTER_LIMITS, MIN_SPLIT_DEPTH, planPatchConv, planPatchConvCached,
  setPatchConvOverride,
  setPoisonFusedOutputs, SPLIT_BELOW_WORKGROUPS, SPLIT_TARGET_WORKGROUPS, SWIFTSHADER_LIMITS }
  from '../../src/kernels/webgpu/index.js';
import { rowVec4Tile } from '../../src/kernels/webgpu/gemm_wgsl.js';
import { FUSED_LAYER_NORM } from '../../src/spec/block_spec.js';
import { FUSED_PATCH_CONV } from '../../src/spec/patch_conv.js';
import { buildModelGraph, STAGES } from '../../models/index.js';
import { relL2 } from '../support/converter_fixtures.js';
import { checkBadPatchConvInputs, checkPatchConvDispatches, patchCaseName, patchConv64, patchConvCases,
  patchConvSplitCases, runPatchConvCase, runPatchConvProfile, runPatchConvSplits, runPatchGemmCases }
  from '../support/patch_conv_cases.js';
import { SMALL } from '../support/model_cases.js';
import { runGraph } from '../support/converter_blocks.js';
import { compareGraphsOnWebGPU } from '../support/webgpu_fused.js';
import { useBackend, webgpuUnavailableReason } from '../support/node_backends.js';
import { freshSeed, Rng } from '../support/random.js';

const seed = freshSeed();
const webgpuSkip = webgpuUnavailableReason() ?? false;

for (const backend of ['cpu', 'wasm', 'webgpu'] as const) {
  const skip = backend === 'webgpu' ? webgpuSkip : false;
  describe(`patchConv on ${backend} vs float64 (seed ${seed})`, { skip }, () => {
    const rng = new Rng(seed);
    // webgpu: NaN-filled outputs, so an element the kernel does not write fails the comparison.
    beforeEach(() => setPoisonFusedOutputs(backend === 'webgpu'));
    afterEach(() => setPoisonFusedOutputs(false));
    for (const c of patchConvCases(rng)) {
      it(patchCaseName(c), async () => {
        await useBackend(backend);
        await runPatchConvCase(c, rng.int(1, 2 ** 30));
      });
    }
    it('epsilon 0.1 (large enough to matter) and bad inputs naming the problem, nothing leaked', async () => {
      await useBackend(backend);
      await runPatchConvCase({ n: 2, h: 6, w: 4, cin: 8, cout: 4, k: 2, preNorm: true, bias: true }, rng.int(1, 2 ** 30), 0.1);
      checkBadPatchConvInputs();
    });
  });
}

describe('webgpu patch conv plan', () => {
  it('the cached plan equals the computed one and follows override changes', () => {
    const s = { n: 1, h: 56, w: 56, cin: 96, cout: 192, k: 2, preNorm: true };
    const first = planPatchConvCached(s, DATACENTER_LIMITS);
    assert.equal(planPatchConvCached(s, DATACENTER_LIMITS), first, 'second call is a cache hit');
    assert.deepEqual(first, planPatchConv(s, DATACENTER_LIMITS));
    try {
      setPatchConvOverride({ gemm: false });
      const direct = planPatchConvCached(s, DATACENTER_LIMITS);
      assert.ok(first.ok && first.plan.gemm != null && direct.ok && direct.plan.gemm == null, 'override seen');
    } finally { setPatchConvOverride(null); }
    assert.deepEqual(planPatchConvCached(s, DATACENTER_LIMITS), first, 'override cleared');
  });
  it('ConvNeXt-T shapes and odd ones fit both limit profiles', () => {
    const shapes = [[32, 224, 224, 3, 96, 4, 0], [1, 56, 56, 96, 192, 2, 1], [32, 28, 28, 192, 384, 2, 1],
      [1, 14, 14, 384, 768, 2, 1], [3, 9, 9, 5, 7, 3, 1], [1, 64, 64, 1024, 2048, 8, 1]];
    for (const [n, h, w, cin, cout, k, pre] of shapes) {
      for (const limits of [SWIFTSHADER_LIMITS, DATACENTER_LIMITS]) {
        const choice = planPatchConv({ n, h, w, cin, cout, k, preNorm: pre === 1 }, limits);
        assert.ok(choice.ok, `${[n, h, w, cin, cout, k]}: ${!choice.ok && choice.reason}`);
        const t = choice.plan.tiling;
        assert.ok(t.storageBytes <= limits.maxComputeWorkgroupStorageSize, `${[n, h, w, cin, cout, k]} storage`);
        assert.ok(t.workgroupSize <= limits.maxComputeInvocationsPerWorkgroup, `${[n, h, w, cin, cout, k]} threads`);
        assert.equal(t.kSlice % choice.plan.xComponents, 0);
        assert.equal(choice.plan.components, cout % 4 === 0 ? 4 : 1);
        assert.ok(choice.plan.tilesN * t.tileNV * choice.plan.components >= cout, 'tiles cover Cout');
        assert.ok(choice.plan.tilesM * t.tileM >= choice.plan.m, 'tiles cover the output pixels');
      }
    }
  });
  it('split-K: S > 1 for the ConvNeXt-T downsamples at N=1 and for down2 / down3 at N=32; S = 1 for down1 at N=32 ' +
    'and for the stem', () => {
    // [H, Cin, Cout, k, preNorm]: ConvNeXt-T 224x224 stem and the three downsamples.
    const layers = [[224, 3, 96, 4, 0], [56, 96, 192, 2, 1], [28, 192, 384, 2, 1], [14, 384, 768, 2, 1]];
    for (const limits of [SWIFTSHADER_LIMITS, DATACENTER_LIMITS]) {
      for (const n of [1, 32]) {
        for (const [h, cin, cout, k, pre] of layers) {
          const label = `N${n} ${h}x${h}x${cin} -> ${cout}`;
          const choice = planPatchConv({ n, h, w: h, cin, cout, k, preNorm: pre === 1 }, limits);
          assert.ok(choice.ok, label);
          const p = choice.plan;
          const plain = p.tilesM * p.tilesN;
          const slices = Math.ceil(p.depth / p.tiling.kSlice);
          assert.equal(p.workgroups, plain * p.kSplits, label);
          // At N=32 the GEMM path runs instead (its own test below); the direct plan's fields still describe that kernel.
          assert.equal(p.dispatches, p.gemm?.dispatches ?? (p.kSplits > 1 ? 2 : 1), label);
          assert.equal(slices % p.kSplits, 0, `${label}: S divides the K slices`);
          assert.equal(p.splitDepth * p.kSplits, slices * p.tiling.kSlice, label);
          assert.equal(choosePatchConvSplits(plain, slices, p.tiling.kSlice), p.kSplits, label);
          if (pre === 0 || (n === 32 && h === 56)) {
            assert.equal(p.kSplits, 1, label);
            // down1 at N=32: enough workgroups already; the stem: K = 48 has no split of >= MIN_SPLIT_DEPTH.
            assert.ok(plain >= SPLIT_BELOW_WORKGROUPS || p.depth < 2 * MIN_SPLIT_DEPTH, `${label}: ${plain} workgroups`);
            continue;
          }
          assert.ok(plain < SPLIT_BELOW_WORKGROUPS, `${label}: ${plain} workgroups`);
          assert.ok(p.kSplits > 1, `${label}: S ${p.kSplits}`);
          assert.ok(p.splitDepth >= MIN_SPLIT_DEPTH, `${label}: ${p.splitDepth} K values per split`);
          // The smallest S reaching the target, or none reaches it and no larger S keeps MIN_SPLIT_DEPTH.
          const smaller = [...Array(p.kSplits - 1).keys()].map((i) => i + 1).filter((sp) => slices % sp === 0);
          assert.ok(smaller.every((sp) => plain * sp < SPLIT_TARGET_WORKGROUPS), label);
          assert.ok(p.workgroups >= SPLIT_TARGET_WORKGROUPS ||
            (slices / (p.kSplits + 1)) * p.tiling.kSlice < MIN_SPLIT_DEPTH, label);
          // A split reads ceil(L / Cin) (+1 when its range straddles a pixel) patch positions, not all k k.
          assert.ok(p.splitPositions <= Math.ceil(p.splitDepth / cin) + 1 && p.splitPositions < k * k, label);
        }
      }
    }
  });
  it('split-K override: S forced, or refused with the reason when it does not divide the K slices', () => {
    const shape = { n: 1, h: 14, w: 14, cin: 384, cout: 768, k: 2, preNorm: true };
    try {
      setPatchConvOverride({ kSplits: 16 });
      const forced = planPatchConv(shape, DATACENTER_LIMITS);
      assert.ok(forced.ok && forced.plan.kSplits === 16 && forced.plan.splitDepth === 96 && forced.plan.dispatches === 2);
      setPatchConvOverride({ kSplits: 1 });
      const one = planPatchConv(shape, DATACENTER_LIMITS);
      assert.ok(one.ok && one.plan.kSplits === 1 && one.plan.dispatches === 1 && one.plan.splitPositions === 4);
      setPatchConvOverride({ kSplits: 5 });
      const bad = planPatchConv(shape, DATACENTER_LIMITS);
      assert.equal(bad.ok, false);
      assert.match(!bad.ok ? bad.reason : '', /override kSplits 5 does not divide the 48 K slices of 32 \(K = 1536\)/);
    } finally {
      setPatchConvOverride(null);
    }
  });
  it('GEMM path: every ConvNeXt-T patch conv at N=1 and N=32, split below 264 tiles; off when forced or by a direct kSplits', () => {
    const layers = [[224, 3, 96, 4, 0], [56, 96, 192, 2, 1], [28, 192, 384, 2, 1], [14, 384, 768, 2, 1]];
    for (const limits of [SWIFTSHADER_LIMITS, DATACENTER_LIMITS]) {
      const plan = (n: number, [h, cin, cout, k, pre]: number[]) => {
        const choice = planPatchConv({ n, h, w: h, cin, cout, k, preNorm: pre === 1 }, limits);
        assert.ok(choice.ok);
        return choice.plan;
      };
      const summary = (n: number) => layers.map((l) => plan(n, l).gemm).map((g) => [g?.tile.bm, g?.tile.bn, g?.kSplits,
        g?.workgroups, g?.dispatches]);
      // N=1, 64 x 96 tiles: 49, 26, 16 and 8 tiles: the stem's K = 48 has no split of >= 64 values; the others the
      // smallest S >= 4 reaching 96 workgroups whose splits each stay inside one patch position (down2: 8, not 6),
      // so their LayerNorm folds into the GEMM and the sum (2 dispatches). N=32: the downsamples' GEMMs have more
      // than 1024 rows (25088, 6272, 1568) and Cout >= 192, so 32 x 96 tiles: 1568, 784 and 392, none below 264
      // (no split), and too many rows to fold: LayerNorm + GEMM; the stem (Cout 96) keeps 64 x 96.
      assert.deepEqual(summary(1), [[64, 96, 1, 49, 1], [64, 96, 4, 104, 2], [64, 96, 8, 128, 2], [64, 96, 12, 96, 2]]);
      assert.deepEqual(summary(32), [[64, 96, 1, 1568, 1], [32, 96, 1, 1568, 2], [32, 96, 1, 784, 2], [32, 96, 1, 392, 2]]);
      assert.deepEqual(layers.map((l) => plan(1, l).gemm?.foldedNorm), [false, true, true, true]);
      assert.deepEqual(layers.map((l) => plan(32, l).gemm?.foldedNorm), [false, false, false, false]);
      assert.equal(plan(32, layers[3]).dispatches, 2);
    }
    try {
      // The A/B knob: the LayerNorm's own dispatch, and the split rule without the position constraint (down2: 6).
      setPatchConvOverride({ gemmFoldedNorm: false });
      const unfolded = planPatchConv({ n: 1, h: 28, w: 28, cin: 192, cout: 384, k: 2, preNorm: true }, DATACENTER_LIMITS);
      assert.ok(unfolded.ok && unfolded.plan.gemm?.foldedNorm === false && unfolded.plan.gemm.kSplits === 6 &&
        unfolded.plan.dispatches === 3);
      // Forced on with the 64 x 96 tile, N=32 down3 splits S = 4 (200 tiles), each split one position: it folds.
      setPatchConvOverride({ gemmFoldedNorm: true, gemmTile: rowVec4Tile(64, 96, 16, 4, 3) });
      const forcedOn = planPatchConv({ n: 32, h: 14, w: 14, cin: 384, cout: 768, k: 2, preNorm: true }, DATACENTER_LIMITS);
      assert.ok(forcedOn.ok && forcedOn.plan.gemm?.foldedNorm === true && forcedOn.plan.gemm.kSplits === 4 &&
        forcedOn.plan.dispatches === 2);
      // A forced tile that does not fit the shape (bn 128 does not divide Cout 192) leaves the rule's.
      setPatchConvOverride({ gemmTile: rowVec4Tile(64, 128, 16, 8, 2) });
      const unfit = planPatchConv({ n: 32, h: 56, w: 56, cin: 96, cout: 192, k: 2, preNorm: true }, DATACENTER_LIMITS);
      assert.ok(unfit.ok && unfit.plan.gemm?.tile.bm === 32 && unfit.plan.gemm.tile.bn === 96);
      // A forced S folds only when each split stays inside one position: 4 (384 of 1536) does, 16 (96 of 384) does.
      for (const [sp, folded] of [[4, true], [16, true], [2, false]] as const) {
        setPatchConvOverride({ gemmSplits: sp });
        const f = planPatchConv({ n: 1, h: 14, w: 14, cin: 384, cout: 768, k: 2, preNorm: true }, DATACENTER_LIMITS);
        assert.ok(f.ok && f.plan.gemm?.kSplits === sp && f.plan.gemm.foldedNorm === folded, `S ${sp}`);
      }
    } finally {
      setPatchConvOverride(null);
    }
    try {
      setPatchConvOverride({ gemm: false });
      const off = planPatchConv({ n: 32, h: 28, w: 28, cin: 192, cout: 384, k: 2, preNorm: true }, DATACENTER_LIMITS);
      assert.ok(off.ok && off.plan.gemm == null && off.plan.dispatches === (off.plan.kSplits > 1 ? 2 : 1));
      setPatchConvOverride({ kSplits: 4 });
      const direct = planPatchConv({ n: 32, h: 28, w: 28, cin: 192, cout: 384, k: 2, preNorm: true }, DATACENTER_LIMITS);
      assert.ok(direct.ok && direct.plan.gemm == null && direct.plan.kSplits === 4);
    } finally {
      setPatchConvOverride(null);
    }
  });
  it('says why when no slice fits the workgroup memory', () => {
    const choice = planPatchConv({ n: 1, h: 8, w: 8, cin: 8, cout: 8, k: 2, preNorm: true },
      { maxComputeWorkgroupStorageSize: 256, maxComputeInvocationsPerWorkgroup: 256 });
    assert.equal(choice.ok, false);
    assert.match(!choice.ok ? choice.reason : '', /bytes of workgroup memory even with a 4-step K slice, the adapter allows 256/);
  });
});

describe(`webgpu FusedPatchConv kernel (seed ${seed})`, { skip: webgpuSkip }, () => {
  const rng = new Rng(seed);
  const cases = patchConvCases(rng).slice(0, 4);
  for (const [name, profile] of [['swiftshader', SWIFTSHADER_LIMITS], ['datacenter', DATACENTER_LIMITS]] as const) {
    it(`${name} limits: default and forced tilings, poisoned outputs`, async () => {
      await useBackend('webgpu');
      await runPatchConvProfile(cases, profile, seed);
    });
  }
  it('one dispatch per call, the pre-norm fold once per weight set, nothing leaked', async () => {
    await useBackend('webgpu');
    await checkPatchConvDispatches(seed);
  });
  for (const [name, profile] of [['swiftshader', SWIFTSHADER_LIMITS], ['datacenter', DATACENTER_LIMITS]] as const) {
    it(`${name} limits: the GEMM path (LayerNorm + GEMM over gathered patches, forced S), poisoned, exact dispatches`,
      async () => {
        await useBackend('webgpu');
        await runPatchGemmCases(profile, seed);
      });
  }
  for (const [name, profile] of [['swiftshader', SWIFTSHADER_LIMITS], ['datacenter', DATACENTER_LIMITS]] as const) {
    it(`${name} limits: split-K with forced S, poisoned partials and output, 2 dispatches, nothing leaked`, async () => {
      await useBackend('webgpu');
      await runPatchConvSplits(patchConvSplitCases(), profile, seed);
    });
  }
});

describe(`converter patch conv pass (seed ${seed})`, () => {
  const rng = new Rng(seed);
  const [cin, cout, eps] = [6, 10, 1e-2]; // not the default 1e-6: a dropped or misread epsilon attr must show
  /** x -> conv 4x4/4 + bias -> LN -> conv 2x2/2 + bias, as the ConvNeXt stem and a downsample. */
  function stemAndDownsample() {
    const b = new GraphBuilder();
    const w = { f0: rng.normals(4 * 4 * 3 * cin, 0.3), b0: rng.normals(cin, 0.1), g: rng.normals(cin, 0.5, 1),
      be: rng.normals(cin, 0.1), f1: rng.normals(2 * 2 * cin * cout, 0.3), b1: rng.normals(cout, 0.1) };
    let x = b.input('x', [-1, 16, 12, 3]);
    x = b.conv2d(x, b.weight('f0', [4, 4, 3, cin], w.f0), { strides: 4, padding: 'VALID', bias: b.weight('b0', [cin], w.b0) });
    x = b.layerNorm(x, b.weight('g', [cin], w.g), b.weight('be', [cin], w.be), eps);
    x = b.conv2d(x, b.weight('f1', [2, 2, cin, cout], w.f1), { strides: 2, padding: 'VALID', bias: b.weight('b1', [cout], w.b1) });
    b.output(x);
    return { graph: b.graph, w };
  }

  it('rewrites the stem conv + LayerNorm (its post-norm) and the downsample conv into two nodes that match float64',
    async () => {
    await useBackend('cpu');
    const { graph, w } = stemAndDownsample();
    const fused = fuseBlocks(graph);
    assert.deepEqual(fused.graph.opCounts(), { [FUSED_PATCH_CONV]: 2 });
    assert.equal(fused.counts.patchConv, 2);
    // The LayerNorm between the convs is the stem's only reader: it folds forward, as the stem's post-norm (a
    // ConvNeXt's downsample LayerNorms follow blocks, so they fold as pre-norms: the next test, the built models).
    assert.equal(fused.counts.layerNorm, 0, 'the LayerNorm is folded into the stem conv');
    const [stem, down] = fused.graph.nodes;
    assert.deepEqual(stem.attrs, { has_bias: { b: true }, pre_norm: { b: false }, post_norm: { b: true },
      post_epsilon: { f: Math.fround(eps) } });
    assert.deepEqual(down.attrs, { has_bias: { b: true }, pre_norm: { b: false } });
    assert.deepEqual([stem.inputs.length, down.inputs.length], [5, 3]);
    assert.deepEqual(fused.patchConvs.map((p) => [p.preNorm != null, p.postNorm != null]), [[false, true], [false, false]]);
    // With post-norms off, the LayerNorm folds into the downsample as its pre-norm instead.
    const preOnly = fuseBlocks(stemAndDownsample().graph, { patchConvPostNorms: false });
    assert.deepEqual(preOnly.patchConvs.map((p) => [p.preNorm != null, p.postNorm != null]), [[false, false], [true, false]]);
    assert.deepEqual(preOnly.graph.nodes[1].attrs, { has_bias: { b: true }, pre_norm: { b: true }, epsilon: { f: Math.fround(eps) } });
    const xs = rng.normals(2 * 16 * 12 * 3);
    const x = tf.tensor(xs, [2, 16, 12, 3]);
    const got = await runGraph(fused.graph, x);
    const stock = await runGraph(graph, x);
    x.dispose();
    const h = patchConv64(xs, { n: 2, h: 16, w: 12, cin: 3, cout: cin, k: 4, preNorm: false, bias: true }, w.f0, w.b0, null);
    const want = patchConv64(Float32Array.from(h), { n: 2, h: 4, w: 3, cin, cout, k: 2, preNorm: true, bias: true },
      w.f1, w.b1, { gamma: w.g, beta: w.be, epsilon: Math.fround(eps) });
    assert.ok(relL2(got, want) < 1e-5, `fused vs float64 ${relL2(got, want)}`);
    assert.ok(relL2(got, stock) < 1e-5, `fused vs stock ${relL2(got, stock)}`);
  });

  it('leaves overlapping / padded convs alone and keeps a LayerNorm whose input or output is read elsewhere', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [-1, 8, 8, 4]);
    const f = (k: number) => b.weight('f', [k, k, 4, 4], rng.normals(k * k * 16));
    b.output(b.conv2d(x, f(3), { strides: 2, padding: 'VALID' })); // k != stride
    b.output(b.conv2d(x, f(2), { strides: 2, padding: 'SAME' })); // padded (SAME with H odd would pad)
    b.output(b.conv2d(x, f(2), { strides: 2, padding: 'VALID', dilations: 2 }));
    b.output(b.conv2d(x, f(1), { strides: 1, padding: 'VALID' })); // 1x1: left to the stock matmul path
    assert.equal(fuseBlocks(b.graph).counts.patchConv, 0);
    const { graph } = stemAndDownsample();
    // The stem conv's output (its bias add) and the LayerNorm's both graph outputs: neither a post- nor a pre-norm.
    const stemOut = graph.nodes.find((n) => n.op === 'BiasAdd')!;
    graph.outputs.push(stemOut.name, graph.nodes.filter((n) => n.op === 'AddV2').at(-1)!.name);
    const r = fuseBlocks(graph);
    assert.equal(r.counts.patchConv, 2);
    assert.equal(r.counts.layerNorm, 1, 'the LayerNorm input and output are graph outputs: kept as FusedLayerNorm');
    assert.equal(r.graph.opCounts()[FUSED_LAYER_NORM], 1);
    assert.ok(r.patchConvs.every((p) => p.preNorm == null && p.postNorm == null));
    // Only the LayerNorm's output read elsewhere: it still folds into the stem as its post-norm (its value is the node's).
    const second = stemAndDownsample().graph;
    second.outputs.push(second.nodes.filter((n) => n.op === 'AddV2').at(-1)!.name);
    const r2 = fuseBlocks(second);
    assert.equal(r2.counts.layerNorm, 0);
    assert.deepEqual(r2.patchConvs.map((p) => p.postNorm != null), [true, false]);
    assert.equal(r2.graph.outputs.length, 2);
  });
});

describe(`built ConvNeXt on webgpu: FusedPatchConv vs stock convs (seed ${seed})`, { skip: webgpuSkip }, () => {
  it(`convnext-${SMALL.variant} ${SMALL.inputSize}x${SMALL.inputSize}: logits agree, one GEMM program per patch conv`, async () => {
    await useBackend('webgpu');
    const unfused = buildModelGraph('convnext', SMALL.variant, { seed, inputSize: SMALL.inputSize, fused: false });
    const fused = fuseBlocks(unfused);
    const without = fuseBlocks(unfused, { patchConvs: false });
    const patchConvs = STAGES[SMALL.variant].depths.length;
    assert.equal(fused.counts.patchConv, patchConvs);
    const programs = await compareGraphsOnWebGPU(fused.graph, without.graph, seed);
    // One GEMM program per patch conv, the direct kernel's or the GEMM path's (a split adds its sum; the GEMM path
    // a FusedLayerNorm): atto's Cout 40 and 80 fit no GEMM tile, 160 and 320 do.
    const gemmKeys = (prefix: string) => programs.fused.filter((k) => k.startsWith(prefix)).length;
    assert.deepEqual([gemmKeys('fusedPatchConv_'), gemmKeys('patchGemm_')], [2, patchConvs - 2]);
    console.log(`  programs per run: ${programs.fused.length} with FusedPatchConv, ${programs.baseline.length} without`);
    assert.ok(programs.fused.length < programs.baseline.length, 'fewer programs with the patch convs');
  });
});
