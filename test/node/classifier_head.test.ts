// FusedClassifierHead: the op on cpu, wasm and webgpu (Dawn on SwiftShader) against float64, bad inputs, the
// webgpu plan within both limit profiles and its fallback, one dispatch per call, the converter pass on small
// graphs (three head forms, non-matches), and a built ConvNeXt on webgpu whose head is one dispatch.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '../../src/index.js';
import { fuseBlocks } from '../../src/converter/fusion.js';
import { attr } from '../../src/converter/ir.js';
import { GraphBuilder } from '../../src/converter/ir_builder.js';
import { FUSED_CLASSIFIER_HEAD } from '../../src/spec/classifier_head.js';
import { buildModelGraph } from '../../models/index.js';
import { relL2 } from '../support/converter_fixtures.js';
import { runGraph } from '../support/converter_blocks.js';
import { SMALL } from '../support/model_cases.js';
import { compareGraphsOnWebGPU } from '../support/webgpu_fused.js';
import { DATACENTER_LIMITS, lastClassifierHeadDecision, planClassifierHead, setClassifierHeadLanes, setPoisonFusedOutputs,
  SWIFTSHADER_LIMITS } from '../../src/kernels/webgpu/index.js';
import { MIN_LANE_CHANNELS } from '../../src/kernels/webgpu/classifier_head_wgsl.js';
import { checkBadHeadInputs, classifierHead64, checkHeadDispatches, checkHeadFallback, headCases, headName, runHeadCase,
  runHeadWithLimits } from '../support/classifier_head_cases.js';
import { withWorkgroupsPerDimension } from '../support/dispatch_limit.js';
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
          assert.equal(p.columnsPerWorkgroup * p.lanes, p.workgroupSize);
          assert.equal(Math.log2(p.lanes) % 1, 0, 'lanes: a power of two (tree reduction)');
          assert.ok(p.lanes === 1 || p.lanes * MIN_LANE_CHANNELS <= c, `C ${c}: ${p.lanes} lanes sum under ${MIN_LANE_CHANNELS} channels each`);
          assert.ok(p.columnSlices * p.columnsPerWorkgroup >= p.kUnits && (p.columnSlices - 1) * p.columnsPerWorkgroup < p.kUnits);
          assert.equal(p.kUnits * p.components, 1000);
        }
      }
    }
    // ConvNeXt-T's head: batch 32 with 8 images per workgroup sharing weight reads over 32 lanes (128 workgroups),
    // batch 1 split over 128 lanes so 125 workgroups read the weights; the same on both profiles.
    for (const limits of [SWIFTSHADER_LIMITS, DATACENTER_LIMITS]) {
      const p32 = planClassifierHead({ n: 32, hw: 49, c: 768, k: 1000 }, limits);
      assert.ok(p32.ok);
      assert.deepEqual([p32.plan.rows, p32.plan.lanes, p32.plan.workgroups, p32.plan.components], [8, 32, 128, 4]);
      const p1 = planClassifierHead({ n: 1, hw: 49, c: 768, k: 1000 }, limits);
      assert.ok(p1.ok);
      assert.deepEqual([p1.plan.rows, p1.plan.lanes, p1.plan.workgroups], [1, 128, 125]);
    }
  });
});

describe(`webgpu FusedClassifierHead (seed ${seed})`, { skip: webgpuUnavailableReason() ?? false }, () => {
  it('one program per call (vec4 / scalar K, row groups, column slices, lanes), poisoned output, no leaks', async () => {
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
  it('more row groups x column slices than maxComputeWorkgroupsPerDimension: every output written', async () => {
    await useBackend('webgpu');
    // 19 row groups (R = 8) x 13 column slices (128 lanes: 2 columns each) past a limit of 16: tfjs reshapes the
    // dispatch, as it does past 65535 row groups at a batch above 524280.
    setPoisonFusedOutputs(true);
    setClassifierHeadLanes(128);
    try {
      await withWorkgroupsPerDimension(16, () => runHeadCase({ n: 150, h: 2, w: 1, c: 20, k: 100 }, seed));
    } finally {
      setClassifierHeadLanes(null);
      setPoisonFusedOutputs(false);
    }
    const d = lastClassifierHeadDecision();
    assert.ok(d?.ok && d.plan.rowGroups === 19 && d.plan.columnSlices === 13, JSON.stringify(d));
  });
});

describe(`converter classifier head pass (seed ${seed})`, () => {
  const rng = new Rng(seed);
  const [c, k, eps] = [13, 7, 1e-5];
  /**
   * x [N, 3, 2, C] -> Relu -> head, as GraphBuilder writes it: 'plain' (Mean keep_dims false, MatMul, BiasAdd),
   * 'reshape' (keep_dims true, Reshape [-1, C, 1, 1] then [-1, C], as the torchvision / timm ONNX exports), or
   * 'fusedMatMul' (tensorflowjs_converter's _FusedMatMul with the bias fused in, as the Keras export).
   */
  function head(form: 'plain' | 'reshape' | 'fusedMatMul') {
    const b = new GraphBuilder();
    const w = { gamma: rng.normals(c, 0.5, 1), beta: rng.normals(c, 0.1), weight: rng.normals(c * k, 0.3),
      bias: rng.normals(k, 0.1) };
    const x = b.unary('Relu', b.input('x', [-1, 3, 2, c]));
    let p = b.mean(x, [1, 2], form === 'reshape');
    p = b.layerNorm(p, b.weight('gamma', [c], w.gamma), b.weight('beta', [c], w.beta), eps);
    if (form === 'reshape') p = b.reshape(b.reshape(p, [-1, c, 1, 1]), [-1, c]);
    const weight = b.weight('fc.weight', [c, k], w.weight);
    const bias = b.weight('fc.bias', [k], w.bias);
    const y = form === 'fusedMatMul' ?
      b.op('_FusedMatMul', [p, weight, bias], { transpose_a: attr.b(false), transpose_b: attr.b(false),
        fused_ops: attr.strs(['BiasAdd']), num_args: attr.i(1) }) :
      b.biasAdd(b.matMul(p, weight), bias);
    b.output(y);
    return { graph: b.graph, w };
  }

  for (const form of ['plain', 'reshape', 'fusedMatMul'] as const) {
    it(`${form}: one FusedClassifierHead node reusing the weights, output vs float64 and vs the stock graph`, async () => {
      await useBackend('cpu');
      const { graph, w } = head(form);
      const fused = fuseBlocks(graph);
      assert.equal(fused.counts.classifierHead, 1);
      assert.equal(fused.counts.layerNorm, 0, 'the head\'s LayerNorm is inside the head');
      assert.deepEqual(fused.graph.opCounts(), { Relu: 1, [FUSED_CLASSIFIER_HEAD]: 1 });
      assert.deepEqual(fused.classifierHeads.map((h) => [h.channels, h.classes]), [[c, k]]);
      const node = fused.graph.nodes.find((n) => n.op === FUSED_CLASSIFIER_HEAD)!;
      assert.deepEqual(node.attrs.epsilon, { f: Math.fround(eps) });
      const consts = node.inputs.slice(1).map((v) => Array.from(fused.graph.constants.get(v)!.data));
      assert.deepEqual(consts, [w.gamma, w.beta, w.weight, w.bias].map((a) => Array.from(a)), 'weights reused exactly');
      const t = { n: 2, h: 3, w: 2, c, k };
      const xs = rng.normals(2 * 3 * 2 * c, 1, 0.3);
      const x = tf.tensor(xs, [2, 3, 2, c]);
      const got = await runGraph(fused.graph, x);
      const stock = await runGraph(graph, x);
      x.dispose();
      const want = classifierHead64(xs.map((v) => Math.max(0, v)), t, w.gamma, w.beta, w.weight, w.bias, Math.fround(eps));
      assert.ok(relL2(got, want) < 1e-5, `fused vs float64 ${relL2(got, want)}`);
      assert.ok(relL2(got, stock) < 1e-5, `fused vs stock ${relL2(got, stock)}`);
    });
  }

  it('is not matched when an intermediate has a second reader, a transposed weight or other pool axes', () => {
    const second = (op: string) => {
      const { graph } = head('plain');
      const nodes = graph.nodes.filter((n) => n.op === op);
      graph.outputs.push(nodes[nodes.length - 1].name); // the last AddV2 is the LayerNorm's output (+ beta)
      return fuseBlocks(graph);
    };
    for (const op of ['Mean', 'MatMul']) assert.equal(second(op).counts.classifierHead, 0, `${op} read twice`);
    const lnRead = second('AddV2');
    assert.equal(lnRead.counts.classifierHead, 0, 'LayerNorm output read twice');
    assert.equal(lnRead.counts.layerNorm, 1, 'the LayerNorm still fuses on its own');
    const transposed = head('plain').graph;
    transposed.nodes.find((n) => n.op === 'MatMul')!.attrs.transpose_b = attr.b(true);
    assert.equal(fuseBlocks(transposed).counts.classifierHead, 0);
    const axes = head('plain').graph;
    const mean = axes.nodes.find((n) => n.op === 'Mean')!;
    axes.constants.set(mean.inputs[1], { dtype: 'int32', shape: [2], data: Int32Array.from([1, 3]) });
    assert.equal(fuseBlocks(axes).counts.classifierHead, 0);
    assert.equal(fuseBlocks(head('plain').graph, { classifierHead: false }).counts.classifierHead, 0);
  });
});

describe(`built ConvNeXt on webgpu: FusedClassifierHead vs the stock head (seed ${seed})`,
  { skip: webgpuUnavailableReason() ?? false }, () => {
    it(`convnext-${SMALL.variant} ${SMALL.inputSize}x${SMALL.inputSize}: logits agree, the head is one dispatch`, async () => {
      await useBackend('webgpu');
      const unfused = buildModelGraph('convnext', SMALL.variant, { seed, inputSize: SMALL.inputSize, fused: false });
      const fused = fuseBlocks(unfused);
      const noHead = fuseBlocks(unfused, { classifierHead: false });
      assert.equal(fused.counts.classifierHead, 1);
      const programs = await compareGraphsOnWebGPU(fused.graph, noHead.graph, seed);
      const afterLastBlock = (keys: string[]) => {
        let last = -1;
        keys.forEach((key, i) => { if (key.startsWith('fusedBlock')) last = i; });
        return keys.slice(last + 1);
      };
      // Everything after the last block program is the head (and the output Identity, no program).
      const headFused = afterLastBlock(programs.fused);
      const headStock = afterLastBlock(programs.baseline);
      console.log(`  head programs: fused [${headFused.join(', ')}], stock ${headStock.length} ` +
        `[${headStock.map((key) => key.slice(0, 24)).join(', ')}]`);
      assert.equal(headFused.length, 1);
      assert.ok(headFused[0].startsWith('fusedClassifierHead'));
      assert.ok(headStock.length >= 4, 'the stock head is pool, LayerNorm, MatMul, bias add');
      assert.equal(programs.fused.length, programs.baseline.length - headStock.length + 1);
    });
  });
