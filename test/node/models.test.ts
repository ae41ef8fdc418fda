import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import '../../src/index.js';
import { toModelArtifacts } from '../../src/converter/graphmodel_writer.js';
import { buildModel, buildModelGraph, buildNetwork, countGraphParams, MODEL_FAMILIES, PUBLISHED_CONVNEXT_PARAMS_M,
  STAGES, VARIANTS } from '../../models/index.js';
import { run as runModelCli } from '../../src/cli/model.js';
import { countModelCost, countParams } from '../../src/analysis/cost_model.js';
import { compareLogits, loadSmall, seededImages, SMALL } from '../support/model_cases.js';
import { useBackend } from '../support/node_backends.js';
import { freshSeed } from '../support/random.js';

const seed = freshSeed();

/** Blocks per stage weighted by the stage width: sum of C over all blocks. */
function blockChannelSum(variant: (typeof VARIANTS)[number]): number {
  const { depths, widths } = STAGES[variant];
  return depths.reduce((s, d, i) => s + d * widths[i], 0);
}

describe('model parameter counts (taken from the built graph)', () => {
  it('the analysis countParams of a loaded GraphModel agrees with the graph (scalar constants are not parameters)',
    async () => {
      await useBackend('cpu');
      for (const family of MODEL_FAMILIES) {
        const built = buildModel(family, 'atto', { fused: true, seed: 1, inputSize: 32 });
        const model = await loadGraphModel(tf.io.fromMemory(toModelArtifacts(built.files)));
        assert.equal(countParams(model as never).params, built.params, `${family}-atto`);
        model.dispose();
      }
    });
  for (const variant of VARIANTS) {
    it(`convnext-${variant} matches the published ${PUBLISHED_CONVNEXT_PARAMS_M[variant]}M`, () => {
      const params = countGraphParams(buildModelGraph('convnext', variant, { weights: 'zeros' }));
      // timm lists counts to 2 decimals (e.g. pico 9.05) and model cards round that again to 1 (9.1).
      const shown = Math.round(Math.round(params / 1e4) / 10) / 10;
      assert.equal(shown, PUBLISHED_CONVNEXT_PARAMS_M[variant], `${params} parameters`);
    });
    it(`convfirst-${variant} = convnext-${variant} + 20 C per block`, () => {
      // Per block: ConvNeXt 49C dw + C + 2C LN + 8C^2 + 4C + C + C layer scale = 8C^2 + 58C;
      // ConvFirst 72C grouped (3x3, group width 8) + C + 8C^2 + 4C + C = 8C^2 + 78C; all else is shared.
      const convnext = countGraphParams(buildModelGraph('convnext', variant, { weights: 'zeros' }));
      const convfirst = countGraphParams(buildModelGraph('convfirst', variant, { weights: 'zeros' }));
      assert.equal(convfirst - convnext, 20 * blockChannelSum(variant));
    });
  }
  it('timm\'s exact counts for tiny, small and base', () => {
    assert.equal(countGraphParams(buildModelGraph('convnext', 'tiny', { weights: 'zeros' })), 28_589_128);
    assert.equal(countGraphParams(buildModelGraph('convnext', 'small', { weights: 'zeros' })), 50_223_688);
    assert.equal(countGraphParams(buildModelGraph('convnext', 'base', { weights: 'zeros' })), 88_591_464);
  });
  it('fused and unfused graphs hold the same number of parameters', () => {
    for (const family of MODEL_FAMILIES) {
      const f = countGraphParams(buildModelGraph(family, 'atto', { weights: 'zeros' }));
      const u = countGraphParams(buildModelGraph(family, 'atto', { weights: 'zeros', fused: false }));
      assert.equal(f, u, family);
    }
  });
});

describe('model FLOPs (src/analysis countModelCost): fused nodes count the layers they replace', () => {
  it('fused and unfused count the same FLOPs (ConvFirstNet: plus the Sum of its grouped-conv lowering)', async () => {
    await useBackend('cpu');
    const size = 64;
    const batch = 2;
    const flops = async (family: (typeof MODEL_FAMILIES)[number], fused: boolean) => {
      const built = buildModel(family, 'atto', { fused, inputSize: size, weights: 'zeros' });
      const model = await loadGraphModel(tf.io.fromMemory(toModelArtifacts(built.files)));
      const cost = await countModelCost(model, [batch, size, size, 3]);
      model.dispose();
      assert.deepEqual(cost.warnings, [], `${family} fused=${fused}`);
      return cost.flops;
    };
    const convnext = [await flops('convnext', true), await flops('convnext', false)];
    assert.equal(convnext[0], convnext[1], 'ConvNeXt-atto fused vs unfused');
    // Unfused, a grouped conv is a depthwise conv with channel multiplier G and a Sum over each group's G partial
    // outputs: G C FLOPs per pixel per block that the grouped conv's 2 k^2 G C multiply-adds already count.
    const { depths, widths } = STAGES.atto;
    const sums = depths.reduce((s, d, i) => s + d * batch * (size / 4 / 2 ** i) ** 2 * 8 * widths[i], 0);
    const convfirst = [await flops('convfirst', true), await flops('convfirst', false)];
    assert.equal(convfirst[1] - convfirst[0], sums, 'ConvFirstNet-atto unfused - fused');
  });
});

describe('model structure', () => {
  for (const family of MODEL_FAMILIES) {
    it(`${family}: one fused node per block, none left in the unfused graph`, () => {
      for (const variant of ['atto', 'tiny'] as const) {
        const blocks = STAGES[variant].depths.reduce((a, b) => a + b, 0);
        const op = family === 'convnext' ? 'FusedConvNeXtBlock' : 'FusedConvFirstBlock';
        const fused = buildModelGraph(family, variant, { weights: 'zeros' }).opCounts();
        const unfused = buildModelGraph(family, variant, { weights: 'zeros', fused: false }).opCounts();
        assert.equal(fused[op], blocks, `${variant} fused`);
        assert.equal(unfused[op], undefined, `${variant} unfused`);
        // stem, downsample layers, head: folded into the stem's and the downsamples' FusedPatchConv (post- and
        // pre-norms) and into the FusedClassifierHead in the fused model, stock composites in the unfused one.
        const downsamples = STAGES[variant].depths.length - 1;
        const layerNorms = 1 + downsamples + 1;
        assert.equal(fused.FusedLayerNorm, undefined, `${variant} fused: no standalone LayerNorm`);
        assert.equal(fused.FusedClassifierHead, 1, `${variant} fused classifier head`);
        assert.equal(fused.Mean, undefined, `${variant} no stock pool left`);
        assert.equal(fused.MatMul, undefined, `${variant} no stock dense layer left`);
        assert.equal(unfused.FusedClassifierHead, undefined, `${variant} unfused head`);
        assert.equal(fused.FusedPatchConv, 1 + downsamples, `${variant} fused patch convs (stem, downsamples)`);
        assert.equal(fused.Conv2D, undefined, `${variant} no stock Conv2D left in the fused graph`);
        assert.equal(fused.Rsqrt, undefined, `${variant} no stock LayerNorm left`);
        assert.equal(unfused.FusedLayerNorm, undefined, `${variant} unfused LayerNorms`);
        assert.equal(unfused.Rsqrt, layerNorms + (family === 'convnext' ? blocks : 0), `${variant} unfused Rsqrt`);
        assert.equal(unfused.Conv2D, family === 'convnext' ? 4 : 4 + 2 * blocks, `${variant} Conv2D count`);
      }
    });
  }

  it('stage outputs and logits have the ConvNeXt shapes on cpu', async () => {
    await useBackend('cpu');
    for (const family of MODEL_FAMILIES) {
      for (const fused of [true, false]) {
        const size = 64;
        const { graph, stageOutputs } = buildNetwork(family, 'atto', { inputSize: size, fused, seed });
        const model = await loadGraphModel(tf.io.fromMemory(toModelArtifacts(buildModel(family, 'atto',
          { inputSize: size, fused, seed }).files)));
        assert.equal(countGraphParams(graph) > 0, true);
        const x = seededImages(seed, 3, size);
        const outs = await model.executeAsync(x, [...stageOutputs, 'logits']) as tf.Tensor[];
        const w = STAGES.atto.widths;
        assert.deepEqual(outs.map((t) => t.shape), [
          [3, 16, 16, w[0]], [3, 8, 8, w[1]], [3, 4, 4, w[2]], [3, 2, 2, w[3]], [3, 1000]], `${family} fused=${fused}`);
        tf.dispose([...outs, x]);
        model.dispose();
      }
    }
  });

  it('rejects bad configurations with a message naming the problem', () => {
    assert.throws(() => buildModelGraph('resnet', 'tiny'), /unknown model family 'resnet'/);
    assert.throws(() => buildModelGraph('convnext', 'huge'), /unknown convnext variant 'huge'/);
    assert.throws(() => buildModelGraph('convnext', 'atto', { inputSize: 100 }), /input size 100 must be a positive multiple of 32/);
    assert.throws(() => buildModelGraph('convnext', 'atto', { batch: 0 }), /batch 0/);
    assert.throws(() => buildModelGraph('convnext', 'atto', { batch: 2 ** 31 }), /batch 2147483648 must be -1 or in \[1, 2147483647\]/);
    assert.throws(() => buildModelGraph('convnext', 'atto', { inputSize: 32800 }), /input size 32800 must be .* up to 32768/);
    assert.throws(() => buildModelGraph('convnext', 'atto', { classes: 1e8 }), /classes 100000000 must be an integer in \[1, 100000\]/);
    assert.throws(() => buildModelGraph('convnext', 'atto', { seed: -1 }), /seed -1 must be an integer in \[0, 4294967295\]/);
    assert.throws(() => buildModelGraph('convnext', 'atto', { seed: 2 ** 32 + 1 }), /seed 4294967297 must be an integer in/);
    // Options a caller can get wrong silently: misspelt keys and wrong types are named, not ignored.
    assert.throws(() => buildModelGraph('convnext', 'atto', { fuse: false } as never), /unknown build option 'fuse' \(did you mean 'fused'\?\)/);
    assert.throws(() => buildModelGraph('convnext', 'atto', { fused: 'false' } as never), /fused must be a boolean, got "false"/);
    assert.throws(() => buildModelGraph('convnext', 'atto', { weights: 'zero' } as never), /weights must be 'random' or 'zeros', got "zero"/);
    assert.throws(() => buildModelGraph('convnext', 'atto', { inputSize: '64' } as never), /inputSize must be a number, got "64"/);
    assert.equal(buildModelGraph('convnext', 'atto', null).inputs[0].shape[1], 224, 'null options are the defaults');
  });
});

describe(`models on cpu: fused vs unfused, seeds, save and reload (seed ${seed})`, () => {
  for (const family of MODEL_FAMILIES) {
    it(`${family}-${SMALL.variant}: fused logits equal unfused logits within float32 tolerance`, async () => {
      await useBackend('cpu');
      const fused = await loadSmall(family, { fused: true, seed });
      const unfused = await loadSmall(family, { fused: false, seed });
      const x = seededImages(seed + 1);
      const before = tf.memory().numTensors;
      const yf = fused.model.predict(x) as tf.Tensor;
      const yu = unfused.model.predict(x) as tf.Tensor;
      assert.deepEqual(yf.shape, [SMALL.batch, 1000]);
      const failure = compareLogits(await yf.data() as Float32Array, await yu.data() as Float32Array);
      assert.equal(failure, null, failure ?? '');
      tf.dispose([yf, yu]);
      assert.equal(tf.memory().numTensors, before, 'predict leaked tensors');
      tf.dispose(x);
      fused.model.dispose();
      unfused.model.dispose();
    });
  }

  it('reports progress: the stem, each stage, the head, the encoding, in order', () => {
    const steps: string[] = [];
    // Block lines come only from builds slow enough to go a second without a line (tested below).
    buildModel('convnext', 'atto', { inputSize: 32, onProgress: (m) => { if (!/: block \d+\//.test(m)) steps.push(m); } });
    assert.deepEqual(steps.map((m) => m.split(/[ :(]/)[0]), ['convnext-atto', 'stage', 'stage', 'stage', 'stage', 'head', 'encoding']);
    assert.match(steps[3], /^stage 3\/4: 6 fused blocks of 160 channels$/);
  });

  it('a slow build also reports blocks within a stage, at most one line a second', () => {
    const steps: string[] = [];
    const now = Date.now;
    let clock = 0;
    Date.now = () => (clock += 600); // every block takes 0.6 s
    try {
      buildModelGraph('convfirst', 'atto', { inputSize: 32, onProgress: (m) => steps.push(m) });
    } finally {
      Date.now = now;
    }
    const stage3 = steps.filter((m) => m.startsWith('stage 3/4'));
    assert.deepEqual(stage3, ['stage 3/4: 6 fused blocks of 160 channels',
      'stage 3/4: block 2/6', 'stage 3/4: block 4/6', 'stage 3/4: block 6/6']);
  });

  it('the same seed gives the same weights; another seed other weights (0 and 1 included)', () => {
    const weights = (s: number) => buildModelGraph('convfirst', 'atto', { seed: s, inputSize: 32 })
      .constants.get('stages.2.blocks.3.conv.weight')?.data;
    assert.deepEqual(weights(seed), weights(seed));
    assert.notDeepEqual(weights(seed), weights(seed + 1));
    assert.notDeepEqual(weights(0), weights(1));
  });

  it('CLI output reloads from disk, runs, saves and reloads with identical logits', async () => {
    await useBackend('cpu');
    const dir = mkdtempSync(join(tmpdir(), 'models-test-'));
    try {
      const out = join(dir, 'convfirst-atto');
      const code = await runModelCli(['convfirst', 'atto', out, '--seed', String(seed), '--input-size', '32']);
      assert.equal(code, 0);
      const modelJson = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
      assert.equal(modelJson.format, 'graph-model');
      const paths: string[] = modelJson.weightsManifest.flatMap((g: { paths: string[] }) => g.paths);
      assert.deepEqual([...paths, 'model.json'].sort(), readdirSync(out).sort());
      const shards = paths.map((p) => readFileSync(join(out, p)));
      const weightData = new Uint8Array(shards.reduce((s, b) => s + b.byteLength, 0));
      let off = 0;
      for (const s of shards) { weightData.set(s, off); off += s.byteLength; }
      const fromDisk = await loadGraphModel(tf.io.fromMemory({
        modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights),
        weightData: weightData.buffer, signature: modelJson.signature, format: modelJson.format }));
      const inMemory = await loadSmall('convfirst', { seed, inputSize: 32 });
      let saved: tf.io.ModelArtifacts | undefined;
      await fromDisk.save(tf.io.withSaveHandler(async (a) => { saved = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
      const reloaded = await loadGraphModel(tf.io.fromMemory(saved as tf.io.ModelArtifacts));
      const x = seededImages(seed + 2, 2, 32);
      const logits = await Promise.all([fromDisk, inMemory.model, reloaded].map((m) => (m.predict(x) as tf.Tensor).data()));
      assert.deepEqual(logits[0], logits[1], 'CLI model vs in-memory build');
      assert.deepEqual(logits[2], logits[0], 'saved and reloaded');
      assert.equal(await runModelCli(['convfirst', 'atto', out]), 1, 'refuses a non-empty outdir');
      assert.equal(await runModelCli(['convfirst', 'atto']), 2, 'usage error');
      // Bad configurations are usage errors (2), found before any work.
      for (const bad of [['convnext', 'atto', join(dir, 'bad'), '--input-size', '33'], ['convnext', 'huge', join(dir, 'bad')],
        ['resnet', 'atto', join(dir, 'bad')], ['convnext', 'atto', join(dir, 'bad'), '--seed', '4294967296'],
        ['convnext', 'atto', join(dir, 'bad'), '--batch', '0'], ['convnext', 'atto', join(dir, 'bad'), '--unfused=no'],
        // An empty <outdir> (an unset "$OUT") is not the current directory; sizes past the bounds, or past 2^53 where
        // Number() would round them, are refused rather than written.
        ['convnext', 'atto', ''], ['convnext', 'atto', join(dir, 'bad'), '--input-size', '9007199254740993'],
        ['convnext', 'atto', join(dir, 'bad'), '--input-size', '32800'], ['convnext', 'atto', join(dir, 'bad'), '--batch', '99999999999999999999'],
        ['convnext', 'atto', join(dir, 'bad'), '--classes', '100001']]) {
        assert.equal(await runModelCli(bad), 2, bad.join(' '));
      }
      assert.deepEqual(readdirSync(dir).sort(), ['convfirst-atto'], 'no half-written folder left behind');
      // --overwrite replaces it (here with the unfused model, spelled as convert spells it).
      assert.equal(await runModelCli(['convfirst', 'atto', out, '--seed', String(seed), '--input-size', '32',
        '--no-fuse', '--overwrite']), 0);
      const replaced = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
      assert.equal(replaced.modelTopology.node.some((n: { op: string }) => n.op === 'FusedConvFirstBlock'), false);
      tf.dispose(x);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
