// TF.js sources: weights tensorflowjs_converter quantized to uint8 / uint16 come back on their own grid, and the
// signature keys and userDefinedMetadata apps rely on survive conversion.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import '../../src/index.js';
import { useBackend } from '../support/node_backends.js';
import { convertModel } from '../../src/converter/convert.js';
import { ConversionError } from '../../src/converter/errors.js';
import { toModelArtifacts } from '../../src/converter/graphmodel_writer.js';
import { decodeWeights, type TfjsModelJson, type TfjsWeightEntry } from '../../src/converter/tfjs_import.js';

const fixtures = join(new URL('../..', import.meta.url).pathname, '..', 'shared', 'fixtures');
const kerasDir = join(fixtures, 'tfjs', 'keras_convnext_tiny16_b1');

/** The Keras fixture's float weights quantized as tensorflowjs_converter's quantize_weights does (quantization.py). */
function quantizedKeras(mode: 'uint8' | 'uint16'): { modelJson: TfjsModelJson; weightData: Uint8Array } {
  const dir = kerasDir;
  const mj = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as TfjsModelJson;
  const data = new Uint8Array(readFileSync(join(dir, 'group1-shard1of1.bin')));
  const levels = mode === 'uint8' ? 255 : 65535;
  const chunks: Uint8Array[] = [];
  let off = 0;
  const weights = mj.weightsManifest![0].weights.map((w): TfjsWeightEntry => {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const raw = data.slice(off, off + 4 * n);
    off += 4 * n;
    if (w.dtype !== 'float32') { chunks.push(raw); return w; }
    const v = new Float32Array(raw.buffer);
    const q = mode === 'uint8' ? new Uint8Array(n) : new Uint16Array(n);
    const lo = v.reduce((a, b) => Math.min(a, b), Infinity);
    const hi = v.reduce((a, b) => Math.max(a, b), -Infinity);
    let min = lo;
    let scale = 1;
    if (hi > lo) {
      scale = (hi - lo) / levels;
      let max = hi;
      if (lo <= 0 && hi >= 0) { min = -Math.round(-lo / scale) * scale; max = levels * scale + min; }
      for (let i = 0; i < n; i++) q[i] = Math.round((Math.min(max, Math.max(min, v[i])) - min) / scale);
    }
    chunks.push(new Uint8Array(q.buffer));
    return { ...w, quantization: { dtype: mode, min, scale } };
  });
  const weightData = new Uint8Array(chunks.reduce((s, c) => s + c.byteLength, 0));
  off = 0;
  for (const c of chunks) { weightData.set(c, off); off += c.byteLength; }
  return { modelJson: { ...mj, weightsManifest: [{ paths: ['q.bin'], weights }] }, weightData };
}

describe('converter: quantized TF.js weights', () => {
  for (const mode of ['uint8', 'uint16'] as const) {
    it(`a ${mode}-quantized GraphModel keeps its weights (${mode}, same values) through an unfused conversion`, () => {
      const src = quantizedKeras(mode);
      const r = convertModel({ format: 'tfjs', ...src }, { fuse: false });
      const written = r.files.modelJson.weightsManifest[0].weights;
      const all = new Uint8Array(r.files.shards.reduce((s, f) => s + f.data.byteLength, 0));
      let off = 0;
      for (const s of r.files.shards) { all.set(s.data, off); off += s.data.byteLength; }
      const before = decodeWeights(src.modelJson.weightsManifest![0].weights, src.weightData);
      const after = decodeWeights(written as TfjsWeightEntry[], all);
      for (const w of written) {
        if (w.dtype !== 'float32') continue;
        assert.equal(w.quantization?.dtype, mode, `${w.name} written as ${w.quantization?.dtype ?? w.dtype}`);
        const a = before.get(w.name)!.data;
        const b = after.get(w.name)!.data;
        for (let i = 0; i < a.length; i++) {
          assert.ok(Math.abs(a[i] - b[i]) <= 1e-6 * Math.max(1, Math.abs(a[i])), `${w.name}[${i}]: ${b[i]} != ${a[i]}`);
        }
      }
    });
  }
});

/** The Keras fixture with its input signature keyed `image` (tensorflowjs_converter keys inputs by the Keras name). */
function kerasSource(): { modelJson: TfjsModelJson; weightData: Uint8Array } {
  const mj = JSON.parse(readFileSync(join(kerasDir, 'model.json'), 'utf8')) as TfjsModelJson & {
    signature: { inputs: Record<string, { name: string }> } };
  mj.signature.inputs = { image: mj.signature.inputs.inputs };
  mj.userDefinedMetadata = { classNames: ['a', 'b'] };
  return { modelJson: mj, weightData: new Uint8Array(readFileSync(join(kerasDir, 'group1-shard1of1.bin'))) };
}

describe('converter: a TF.js source keeps its signature keys and metadata', () => {
  it('feeds and fetches by the source keys (image, output_0), with the same logits, before and after fusion', async () => {
    await useBackend('cpu');
    const src = kerasSource();
    const before = tf.memory().numTensors;
    const original = await loadGraphModel(tf.io.fromMemory({ modelTopology: src.modelJson.modelTopology,
      signature: src.modelJson.signature, weightSpecs: src.modelJson.weightsManifest![0].weights as never,
      weightData: src.weightData.slice().buffer }));
    const x = tf.randomUniform([1, 64, 64, 3], -1, 1, 'float32', 7);
    const expected = original.execute({ image: x }, 'output_0') as tf.Tensor;
    for (const fuse of [true, false]) {
      const r = convertModel({ format: 'tfjs', ...src }, { fuse });
      const converted = await loadGraphModel(tf.io.fromMemory(toModelArtifacts(r.files)));
      // tfjs names a signature's nodes by their keys (inputNodes / outputNodes).
      assert.deepEqual(original.inputNodes, ['image']);
      assert.deepEqual(original.outputNodes, ['output_0']);
      assert.deepEqual(converted.inputNodes, original.inputNodes, `inputs (fuse ${fuse})`);
      assert.deepEqual(converted.outputNodes, original.outputNodes, `outputs (fuse ${fuse})`);
      const y = converted.execute({ image: x }, 'output_0') as tf.Tensor;
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(y, expected))).dataSync()[0]);
      assert.ok(diff < 1e-4, `fuse ${fuse}: max |diff| ${diff}`);
      assert.deepEqual(r.files.modelJson.userDefinedMetadata?.classNames, ['a', 'b']);
      assert.ok(r.files.modelJson.userDefinedMetadata?.tfjsBlockFusion != null, 'the converter adds its summary');
      y.dispose();
      converted.dispose();
    }
    tf.dispose([x, expected]);
    original.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it('names a signature that is not a map of tensor infos', () => {
    const src = kerasSource();
    (src.modelJson as { signature: unknown }).signature = { inputs: { image: 'inputs:0' } };
    assert.throws(() => convertModel({ format: 'tfjs', ...src }),
      (e: Error) => e instanceof ConversionError && /signature\.inputs is not a map/.test(e.message));
  });
});
