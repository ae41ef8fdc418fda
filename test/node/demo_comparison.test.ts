/**
 * The demo's comparison (demo/lib/comparison.ts) in Node on the cpu backend, no browser: a dropped ONNX export
 * with dynamic height / width runs at the form's input size (not at batch x batch pixels), and a comparison
 * that fails part-way leaves no tensor behind, and a dropped model.onnx.data (external weights) is read; every output
 * of a two-output model is diffed; an already fused model is labelled so and its speedup over itself is no win; a
 * GraphModel folder's model.json is found beside other JSON.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../../src/index.js';
import { comparisonInputShape, runComparison, type ComparisonConfig } from '../../demo/lib/comparison.js';
import { mainModelFile } from '../../demo/lib/model_sources.js';
import { isFusionWin } from '../../demo/ui/results_table.js';
import { convertModel } from '../../src/converter/index.js';
import { smallConvNeXtOnnx } from '../support/convnext_onnx.js';
import { externalizeInitializers, firstInputOf, withExtraOutput } from '../support/onnx_builder.js';

const file = (name: string, bytes: Uint8Array): File => new File([bytes as Uint8Array<ArrayBuffer>], name);

/** A comparison of the dropped model `name` (and any `extra` dropped files, such as its external data). */
const config = (name: string, bytes: Uint8Array, extra: Record<string, Uint8Array> = {}): ComparisonConfig => ({
  backends: ['cpu'], models: [], variant: 'atto', inputSize: 32, batch: 2, iterations: 1, warmup: 0, seed: 1, profile: false,
  ownModel: { name, files: [file(name, bytes), ...Object.entries(extra).map(([n, b]) => file(n, b))] },
});

describe('demo comparison (cpu, Node)', () => {
  before(async () => {
    (globalThis as { navigator?: unknown }).navigator ??= { userAgent: 'node' };
    await tf.setBackend('cpu');
  });

  it('fills an unknown batch with the batch and unknown spatial dims (by layout) with the input size', () => {
    assert.deepEqual(comparisonInputShape({ shape: [-1, 3, -1, -1], layout: 'NCHW' }, 2, 32), [2, 3, 32, 32]);
    assert.deepEqual(comparisonInputShape({ shape: [-1, 64, 64, 3] }, 5, 224), [5, 64, 64, 3]);
    assert.deepEqual(comparisonInputShape({ shape: [1, 3, 64, 64], layout: 'NCHW' }, 8, 32), [1, 3, 64, 64]);
    // A dynamic channel count is not an image size: 1, as convert --verify gives it (the image size was used before).
    assert.deepEqual(comparisonInputShape({ shape: [-1, -1, -1, -1] }, 2, 32), [2, 32, 32, 1]);
    assert.deepEqual(comparisonInputShape({ shape: [-1, -1, -1, -1], layout: 'NCHW' }, 2, 32), [2, 1, 32, 32]);
  });

  it('runs an ONNX export with dynamic height / width at the form input size, outputs matching', async () => {
    const results = await runComparison(config('dyn_hw.onnx', smallConvNeXtOnnx(['N', 3, 'H', 'W'])), () => {});
    assert.deepEqual(results.rows.map((r) => r.model), ['own-original', 'own-converted']);
    assert.equal(results.rows[1].batch, 2);
    assert.ok(results.rows[1].maxDiff != null && results.rows[1].maxDiff <= 1e-3, `max diff ${results.rows[1].maxDiff}`);
    assert.ok(results.notes.some((n) => /dynamic.*32px/.test(n)), `a note says which size ran: ${results.notes.join(' / ')}`);
    assert.equal(tf.memory().numTensors, 0, 'no tensor left behind');
  });

  it('reads an ONNX export whose weights are in a dropped .onnx.data file, and names that file when it is missing', async () => {
    const { onnx, data } = externalizeInitializers(smallConvNeXtOnnx(['N', 3, 32, 32]), 'model.onnx.data');
    const results = await runComparison(config('model.onnx', onnx, { 'model.onnx.data': data }), () => {});
    assert.deepEqual(results.rows.map((r) => r.model), ['own-original', 'own-converted']);
    assert.ok(results.rows[1].maxDiff != null && results.rows[1].maxDiff <= 1e-3, `max diff ${results.rows[1].maxDiff}`);
    await assert.rejects(runComparison(config('model.onnx', onnx), () => {}),
      /external data file model\.onnx\.data named by model\.onnx is missing: add it to the files/);
    await assert.rejects(runComparison(config('model.onnx', onnx, { 'model.onnx.data': data.subarray(8) }), () => {}),
      /external data file model\.onnx\.data is \d+ bytes, but model\.onnx reads bytes/);
    assert.equal(tf.memory().numTensors, 0, 'no tensor left behind');
  });

  it('compares every output of a model with two (pooled features and logits), leaving no tensor behind', async () => {
    // GraphModel.predict gives an array for two outputs: the comparison read it as one tensor (TypeError 'y.data is
    // not a function', two tensors left per run).
    const single = smallConvNeXtOnnx(['N', 3, 32, 32]);
    const bytes = withExtraOutput(single, firstInputOf(single, 'Gemm'), ['N', 16]);
    const before = tf.memory().numTensors;
    const results = await runComparison(config('two_outputs.onnx', bytes), () => {});
    assert.deepEqual(results.rows.map((r) => r.model), ['own-original', 'own-converted']);
    const diff = results.rows[1].maxDiff;
    assert.ok(diff != null && diff <= 1e-3, `max diff over both outputs ${diff}`);
    assert.equal(tf.memory().numTensors, before, 'every output disposed');
  });

  it('a dropped model that is already fused runs as itself twice: labelled so, its speedup never a fusion win', async () => {
    const { files } = convertModel({ format: 'onnx', bytes: smallConvNeXtOnnx(['N', 3, 32, 32]) });
    const json = new TextEncoder().encode(JSON.stringify(files.modelJson));
    const shards = Object.fromEntries(files.shards.map((s) => [s.path, s.data]));
    const results = await runComparison(config('model.json', json, shards), () => {});
    const [original, converted] = results.rows;
    assert.ok(original.fusedNodes > 0 && converted.fusedNodes === original.fusedNodes,
      `both rows run the fused graph (${original.fusedNodes}, ${converted.fusedNodes} fused nodes)`);
    assert.equal(converted.label, 'Your model (converted: already fused)');
    // Its timing against itself can come out at any ratio (a cold first model): none is a win of fusion.
    assert.equal(isFusionWin({ ...converted, speedup: 4.3 }, results.rows), false);
    // The built-in conversion over stock ops is one (the control).
    const stock = { ...original, model: 'convnext-original' as const, fusedNodes: 0 };
    assert.equal(isFusionWin({ ...converted, model: 'convnext-converted', speedup: 1.2 }, [stock]), true);
    assert.equal(isFusionWin({ ...converted, model: 'convnext-converted', speedup: 1.01 }, [stock]), false);
  });

  it('takes model.json from a GraphModel folder that holds other JSON (metadata.json, picked first before)', async () => {
    const { files } = convertModel({ format: 'onnx', bytes: smallConvNeXtOnnx(['N', 3, 32, 32]) });
    const metadata = new TextEncoder().encode(JSON.stringify({ tfjsVersion: '4.22.0', labels: ['a', 'b'] }));
    const extra = { 'model.json': new TextEncoder().encode(JSON.stringify(files.modelJson)),
      ...Object.fromEntries(files.shards.map((s) => [s.path, s.data])) };
    const results = await runComparison(config('metadata.json', metadata, extra), () => {});
    assert.deepEqual(results.rows.map((r) => r.model), ['own-original', 'own-converted']);
    assert.deepEqual(mainModelFile([{ name: 'group1-shard1of1.bin' }, { name: 'metadata.json' }, { name: 'model.json' }]),
      { name: 'model.json' }, 'the page names the model file it will convert');
  });

  it("a dropped JSON that is not a GraphModel is named by its own file name, also with a malformed manifest", async () => {
    const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    await assert.rejects(runComparison(config('package.json', json({ name: 'app', version: '1.0.0' })), () => {}),
      /^ConversionError: package\.json has no modelTopology\.node: not a TF\.js GraphModel/);
    await assert.rejects(runComparison(config('model.json', json({ modelTopology: { node: [] }, weightsManifest: { paths: 1 } })),
      () => {}), /^ConversionError: model\.json's weightsManifest is not a list of \{ paths, weights \} groups/);
  });

  it('leaves no tensor behind when a model fails part-way', async () => {
    // A fixed 2x2 image: the unfused graph runs it (a 4x4/4 conv of a 2x2 image is empty), the fused patch conv throws.
    const before = tf.memory().numTensors;
    await assert.rejects(runComparison(config('tiny_image.onnx', smallConvNeXtOnnx(['N', 3, 2, 2])), () => {}),
      /patchConv: x's H x W = 2x2 is smaller than one 4x4 patch/);
    assert.equal(tf.memory().numTensors, before, 'the comparison input was disposed');
  });
});
