import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '../../src/index.js';
import { GraphBuilder } from '../../src/converter/ir_builder.js';
import { writeGraphModel } from '../../src/converter/graphmodel_writer.js';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../../src/converter/float16.js';
import { Graph } from '../../src/converter/ir.js';
import { useBackend } from '../support/node_backends.js';
import { freshSeed, Rng } from '../support/random.js';
import { convfirst64, convnext64 } from '../support/reference64.js';
import { addConvFirstBlock, addConvNeXtBlock, convfirstWeights, convnextWeights, runGraph } from '../support/converter_blocks.js';

const seed = freshSeed();

function relL2(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) { num += (got[i] - want[i]) ** 2; den += want[i] ** 2; }
  return Math.sqrt(num / den);
}

describe(`converter IR + GraphBuilder + writer (seed ${seed})`, () => {
  it('an unfused and a fused ConvNeXt block built in IR match the float64 oracle', async () => {
    await useBackend('cpu');
    const rng = new Rng(seed);
    const [n, h, w, c, d, k] = [2, 5, 7, 12, 20, 7];
    const wt = convnextWeights(rng, c, d, k);
    const xv = rng.normals(n * h * w * c);
    const want = convnext64(xv, { n, h, w, c }, k, d, wt, 1e-6, 'gelu');
    const unfused = new GraphBuilder();
    unfused.output(addConvNeXtBlock(unfused, unfused.input('x', [-1, h, w, c]), wt, c, d, k, 1e-6));
    const fused = new GraphBuilder();
    const names = [fused.weight('dw', [k, k, c, 1], wt.dwFilter), fused.weight('dwb', [c], wt.dwBias),
      fused.weight('g', [c], wt.lnGamma), fused.weight('b', [c], wt.lnBeta), fused.weight('w1', [c, d], wt.w1),
      fused.weight('b1', [d], wt.b1), fused.weight('w2', [d, c], wt.w2), fused.weight('b2', [c], wt.b2),
      fused.weight('ls', [c], wt.layerScale as Float32Array)];
    fused.output(fused.fusedConvNeXtBlock(fused.input('x', [-1, h, w, c]), names, { epsilon: 1e-6, activation: 'gelu' }));
    const x = tf.tensor4d(xv, [n, h, w, c]);
    for (const g of [unfused.graph, fused.graph]) {
      const before = tf.memory().numTensors;
      const got = await runGraph(g, x);
      assert.equal(tf.memory().numTensors, before, 'no leaked tensors');
      assert.ok(relL2(got, want) < 1e-5, `rel L2 ${relL2(got, want)}`);
    }
    x.dispose();
  });

  it('an unfused ConvFirst block (grouped conv lowered to depthwise + sum) matches the float64 oracle', async () => {
    await useBackend('cpu');
    const rng = new Rng(seed + 1);
    const [n, h, w, c, d, k, g] = [2, 6, 5, 24, 40, 3, 8];
    const wt = convfirstWeights(rng, c, d, k, g);
    const xv = rng.normals(n * h * w * c);
    const want = convfirst64(xv, { n, h, w, c }, k, g, d, wt, 'silu', true);
    const b = new GraphBuilder();
    b.output(addConvFirstBlock(b, b.input('x', [-1, -1, -1, c]), wt, c, d, k, g));
    const x = tf.tensor4d(xv, [n, h, w, c]);
    const got = await runGraph(b.graph, x);
    x.dispose();
    assert.ok(relL2(got, want) < 1e-5, `rel L2 ${relL2(got, want)}`);
  });

  it('writer splits weights into shards of at most shardBytes and quantizes on request', async () => {
    await useBackend('cpu');
    const rng = new Rng(seed + 2);
    const b = new GraphBuilder();
    const values = rng.normals(3000);
    b.output(b.mul(b.input('x', [3000]), b.weight('w', [3000], values)));
    const files = writeGraphModel(b.graph, { shardBytes: 5000 });
    assert.equal(files.shards.length, 3);
    assert.ok(files.shards.every((s) => s.data.byteLength <= 5000));
    assert.equal(files.shards[0].path, 'group1-shard1of3.bin');
    const x = tf.ones([3000]);
    assert.deepEqual(await runGraph(b.graph, x), values);
    const f16 = await runGraph(b.graph, x, { quantize: 'float16' });
    for (let i = 0; i < values.length; i++) assert.equal(f16[i], float16BitsToFloat32(float32ToFloat16Bits(values[i])));
    assert.equal(writeGraphModel(b.graph, { quantize: 'float16' }).shards[0].data.byteLength, 6000);
    const u8 = await runGraph(b.graph, x, { quantize: 'uint8' });
    const range = Math.max(...values) - Math.min(...values);
    for (let i = 0; i < values.length; i++) assert.ok(Math.abs(u8[i] - values[i]) <= range / 255, `uint8 value ${i}`);
    x.dispose();
  });

  it('float16 conversion rounds to nearest even and handles subnormals, inf and nan', () => {
    for (const v of [0, -0, 1, -2.5, 65504, 6.1e-5, 5.96e-8, 1e-9, 1 / 3]) {
      const back = float16BitsToFloat32(float32ToFloat16Bits(v));
      assert.ok(Math.abs(back - v) <= Math.abs(v) * 2 ** -11 + 2 ** -25, `${v} -> ${back}`);
    }
    assert.equal(float16BitsToFloat32(float32ToFloat16Bits(1e6)), Infinity);
    assert.ok(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(NaN))));
    assert.equal(float32ToFloat16Bits(1 + 2 ** -11), float32ToFloat16Bits(1)); // tie -> even
  });

  it('graph validation names the problem', () => {
    const g = new Graph();
    g.addNode('Relu', ['missing']);
    g.outputs.push('Relu');
    assert.throws(() => g.validate(), /reads missing before it is defined/);
    assert.throws(() => g.topoSort(), /reads unknown value missing/);
  });
});
