// FusedLayerNorm: the op on cpu, wasm and webgpu (Dawn on SwiftShader) against float64, bad inputs, the
// webgpu plan within both limit profiles, one dispatch per call, the converter pass on small graphs, and a
// built ConvNeXt on webgpu (fused vs unfused, FusedLayerNorm programs counted).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs'; // registers stock ops' gradients, which the layerNorm gradient runs
import { layerNorm } from '../../src/index.js';
import { fuseBlocks } from '../../src/converter/fusion.js';
import type { Graph } from '../../src/converter/ir.js';
import { GraphBuilder } from '../../src/converter/ir_builder.js';
import { DATACENTER_LIMITS, layerNormPlan, setPoisonFusedOutputs, SWIFTSHADER_LIMITS } from '../../src/kernels/webgpu/index.js';
import { FUSED_LAYER_NORM } from '../../src/spec/block_spec.js';
import { buildModelGraph, STAGES } from '../../models/index.js';
import { relL2 } from '../support/converter_fixtures.js';
import { checkBadLayerNormInputs, checkLayerNormDispatches, layerNorm64, layerNormShapes, runLayerNormCase }
  from '../support/layer_norm_cases.js';
import { SMALL } from '../support/model_cases.js';
import { runGraph } from '../support/converter_blocks.js';
import { compareGraphsOnWebGPU } from '../support/webgpu_fused.js';
import { useBackend, webgpuUnavailableReason } from '../support/node_backends.js';
import { sameAsCpuProblems } from '../support/gradient_cases.js';
import { freshSeed, Rng } from '../support/random.js';

const seed = freshSeed();

for (const backend of ['cpu', 'wasm', 'webgpu'] as const) {
  const skip = backend === 'webgpu' ? webgpuUnavailableReason() ?? false : false;
  describe(`layerNorm on ${backend} vs float64 (seed ${seed})`, { skip }, () => {
    const rng = new Rng(seed);
    // webgpu: NaN-filled outputs, so an element the kernel does not write fails the comparison.
    beforeEach(() => setPoisonFusedOutputs(backend === 'webgpu'));
    afterEach(() => setPoisonFusedOutputs(false));
    for (const shape of layerNormShapes(rng)) {
      it(`[${shape.join(', ')}]`, async () => {
        await useBackend(backend);
        await runLayerNormCase(shape, rng.int(1, 2 ** 30));
      });
    }
    it('epsilon 0.1 (large enough to matter) and bad inputs naming the problem, nothing leaked', async () => {
      await useBackend(backend);
      await runLayerNormCase([3, 4, 12], rng.int(1, 2 ** 30), 0.1);
      checkBadLayerNormInputs();
    });
  });
}

describe(`layerNorm gradient on webgpu at ranks 1-6 equals cpu's (seed ${seed})`, { skip: webgpuUnavailableReason() ?? false }, () => {
  // The gradient runs the reference composition with stock ops; tfjs-backend-webgpu's broadcasting binary ops stop
  // at rank 4, so a rank-5 x once gave zeros (and a poisoned command buffer) without an error.
  const rng = new Rng(seed);
  for (const shape of [[12], [3, 5], [2, 1, 3, 1, 12], [1, 2, 1, 2, 3, 6]]) {
    it(`[${shape.join(', ')}]`, async () => {
      const c = shape[shape.length - 1];
      const size = shape.reduce((a, b) => a * b, 1);
      const values = [rng.normals(size, 1.5, 0.3), rng.normals(c, 0.5, 1), rng.normals(c, 0.1), rng.normals(size)];
      const run = () => {
        const [x, g, b, r] = [tf.tensor(values[0], shape), tf.tensor1d(values[1]), tf.tensor1d(values[2]), tf.tensor(values[3], shape)];
        const f = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(layerNorm(xx, gg, bb), r));
        return [layerNorm(x, g, b), ...tf.grads(f as (...xs: tf.Tensor[]) => tf.Tensor)([x, g, b])];
      };
      const grads = { name: 'layerNorm', names: ['y', 'dx', 'dgamma', 'dbeta'], run };
      assert.deepEqual(await sameAsCpuProblems((b) => useBackend(b as 'cpu' | 'webgpu'), 'webgpu', grads), []);
    });
  }
});

describe('webgpu LayerNorm plan', () => {
  it('every C from 1 to 5000 (and 65536) fits both limit profiles, each unit owned by one thread', () => {
    for (let c = 1; c <= 5000; c++) check(c);
    check(65536);
    function check(c: number) {
      const p = layerNormPlan(c);
      for (const limits of [SWIFTSHADER_LIMITS, DATACENTER_LIMITS]) {
        assert.ok(p.workgroupSize <= limits.maxComputeInvocationsPerWorkgroup, `C ${c}: ${p.workgroupSize} threads`);
        assert.ok(4 * p.workgroupSize <= limits.maxComputeWorkgroupStorageSize, `C ${c}: workgroup storage`);
      }
      assert.equal(p.components, c % 4 === 0 ? 4 : 1);
      assert.equal(p.units * p.components, c);
      assert.equal(p.threadsPerRow * p.rowsPerWorkgroup, p.workgroupSize, `C ${c}`);
      assert.equal(Math.log2(p.threadsPerRow) % 1, 0, 'threads per row: a power of two (tree reduction)');
      assert.ok(p.perThread * p.threadsPerRow >= p.units && (p.perThread - 1) * p.threadsPerRow < p.units, `C ${c}`);
    }
  });
});

describe(`webgpu FusedLayerNorm dispatches (seed ${seed})`, { skip: webgpuUnavailableReason() ?? false }, () => {
  it('one program per call (vec4, scalar, 256-thread rows), poisoned output, no leaked tensors or data ids', async () => {
    await useBackend('webgpu');
    await checkLayerNormDispatches(seed);
  });
});

describe(`converter LayerNorm pass (seed ${seed})`, () => {
  const rng = new Rng(seed);
  const c = 13;
  const eps = 1e-5;
  /** x -> LN -> Relu -> LN (a chain, the second read by the output), as GraphBuilder writes them. */
  function chain(): { graph: Graph; gammas: Float32Array[]; betas: Float32Array[] } {
    const b = new GraphBuilder();
    const gammas = [rng.normals(c, 0.5, 1), rng.normals(c, 0.5, 1)];
    const betas = [rng.normals(c, 0.1), rng.normals(c, 0.1)];
    let x = b.input('x', [-1, 3, c]);
    x = b.unary('Relu', b.layerNorm(x, b.weight('g0', [c], gammas[0]), b.weight('b0', [c], betas[0]), eps));
    b.output(b.layerNorm(x, b.weight('g1', [c], gammas[1]), b.weight('b1', [c], betas[1]), eps));
    return { graph: b.graph, gammas, betas };
  }

  it('rewrites each standalone LayerNorm (chained too) into one node that matches float64', async () => {
    await useBackend('cpu');
    const { graph, gammas, betas } = chain();
    const fused = fuseBlocks(graph);
    assert.equal(fused.counts.layerNorm, 2);
    assert.deepEqual(fused.graph.opCounts(), { [FUSED_LAYER_NORM]: 2, Relu: 1 });
    for (const n of fused.graph.nodes.filter((m) => m.op === FUSED_LAYER_NORM)) {
      assert.deepEqual(n.attrs.epsilon, { f: Math.fround(eps) }, 'epsilon: the float32 constant the graph held');
    }
    const xs = rng.normals(2 * 3 * c, 2, 0.5);
    const x = tf.tensor(xs, [2, 3, c]);
    const got = await runGraph(fused.graph, x);
    const stock = await runGraph(graph, x);
    x.dispose();
    const h = layerNorm64(xs, c, gammas[0], betas[0], Math.fround(eps)).map((v) => Math.max(0, v));
    const want = layerNorm64(Float32Array.from(h), c, gammas[1], betas[1], Math.fround(eps));
    assert.ok(relL2(got, want) < 1e-6, `fused vs float64 ${relL2(got, want)}`);
    assert.ok(relL2(got, stock) < 1e-6, `fused vs stock ${relL2(got, stock)}`);
  });

  it('leaves a LayerNorm whose inner value is read elsewhere, or with epsilon 0, as stock ops', () => {
    const { graph } = chain();
    const centered = graph.nodes.find((n) => n.op === 'Sub')!;
    graph.outputs.push(centered.name);
    assert.equal(fuseBlocks(graph).counts.layerNorm, 1, 'the first LayerNorm shares x - mean with an output');
    const b = new GraphBuilder();
    b.output(b.layerNorm(b.input('x', [-1, c]), b.weight('g', [c], rng.normals(c)), b.weight('b', [c], rng.normals(c)), 0));
    assert.equal(fuseBlocks(b.graph).counts.layerNorm, 0);
  });
});

describe(`built ConvNeXt on webgpu: FusedLayerNorm vs stock LayerNorms (seed ${seed})`,
  { skip: webgpuUnavailableReason() ?? false }, () => {
    // The fully unfused model runs in karma (models.spec.ts, webgpu in Chromium); on Dawn its many stock
    // pipelines take a minute to compile, so here the baseline is the same graph with only blocks fused.
    it(`convnext-${SMALL.variant} ${SMALL.inputSize}x${SMALL.inputSize}: logits agree, one program per LayerNorm`, async () => {
      await useBackend('webgpu');
      const unfused = buildModelGraph('convnext', SMALL.variant, { seed, inputSize: SMALL.inputSize, fused: false });
      // Patch convs and the head pass off in both: this compares LayerNorms alone (patch_conv.test.ts and
      // classifier_head.test.ts cover the folded forms).
      const fused = fuseBlocks(unfused, { patchConvs: false, classifierHead: false });
      const blocksOnly = fuseBlocks(unfused, { layerNorms: false, patchConvs: false, classifierHead: false });
      const layerNorms = 1 + (STAGES[SMALL.variant].depths.length - 1) + 1;
      assert.equal(fused.counts.layerNorm, layerNorms);
      const programs = await compareGraphsOnWebGPU(fused.graph, blocksOnly.graph, seed);
      assert.equal(programs.fused.filter((k) => k.startsWith('fusedLayerNorm')).length, layerNorms);
      console.log(`  programs per run: ${programs.fused.length} with FusedLayerNorm, ${programs.baseline.length} with ` +
        'stock LayerNorms');
      assert.ok(programs.fused.length < programs.baseline.length - layerNorms,
        'each LayerNorm composite is several programs, the fused one');
    });
  });
