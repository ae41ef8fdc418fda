/**
 * The demo's comparison (demo/lib/comparison.ts) in Node on the cpu backend, no browser: a dropped ONNX export
 * with dynamic height / width runs at the form's input size (not at batch x batch pixels), and a comparison
 * that fails part-way leaves no tensor behind.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../../src/index.js';
import { comparisonInputShape, runComparison, type ComparisonConfig } from '../../demo/lib/comparison.js';
import { encodeOnnx, type NodeInput, type TensorInput } from '../support/onnx_builder.js';
import { Rng } from '../support/random.js';

/** A torchvision-shaped ConvNeXt (stem 4x4/4 + LayerNorm, one block of 16 channels, pooled head) as ONNX. */
function smallConvNeXtOnnx(input: (number | string)[]): Uint8Array {
  const rng = new Rng(3);
  const init: Record<string, TensorInput> = {};
  const nodes: NodeInput[] = [];
  let id = 0;
  const weight = (shape: number[], std: number, mean = 0): string => {
    const name = `w${id++}`;
    init[name] = { dims: shape, float: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => mean + std * (rng.next() - 0.5)) };
    return name;
  };
  const scalar = (v: number): string => { const name = `c${id++}`; init[name] = { dims: [], float: [v] }; return name; };
  const op = (o: string, inputs: string[], attrs = {}): string => {
    const out = `v${id++}`;
    nodes.push({ op: o, inputs, outputs: [out], attrs });
    return out;
  };
  const c = 16;
  const ln2d = (x: string): string => op('Transpose', [op('LayerNormalization', [op('Transpose', [x], { perm: [0, 2, 3, 1] }),
    weight([c], 0.1, 1), weight([c], 0.1)], { axis: -1, epsilon: 1e-6 })], { perm: [0, 3, 1, 2] });
  const x = ln2d(op('Conv', ['input', weight([c, 3, 4, 4], 0.3), weight([c], 0.1)], { kernel_shape: [4, 4], strides: [4, 4] }));
  const dw = op('Conv', [x, weight([c, 1, 7, 7], 0.3), weight([c], 0.1)], { kernel_shape: [7, 7], pads: [3, 3, 3, 3], group: c });
  const ln = op('LayerNormalization', [op('Transpose', [dw], { perm: [0, 2, 3, 1] }), weight([c], 0.2, 1), weight([c], 0.1)],
    { axis: -1, epsilon: 1e-6 });
  const h = op('Add', [weight([4 * c], 0.1), op('MatMul', [ln, weight([c, 4 * c], 0.5)])]);
  const g = op('Mul', [op('Mul', [h, op('Add', [op('Erf', [op('Div', [h, scalar(Math.SQRT2)])]), scalar(1)])]), scalar(0.5)]);
  const y = op('Add', [weight([c], 0.1), op('MatMul', [g, weight([4 * c, c], 0.25)])]);
  const block = op('Add', [op('Mul', [weight([c, 1, 1], 0.1, 0.75), op('Transpose', [y], { perm: [0, 3, 1, 2] })]), x]);
  const flat = op('Flatten', [ln2d(op('GlobalAveragePool', [block]))], { axis: 1 });
  nodes.push({ op: 'Gemm', inputs: [flat, weight([10, c], 0.3), weight([10], 0.1)], outputs: ['output'], attrs: { transB: 1 } });
  return encodeOnnx({ inputs: { input }, outputs: { output: [input[0], 10] }, initializers: init, nodes });
}

const config = (name: string, bytes: Uint8Array): ComparisonConfig => ({
  backends: ['cpu'], models: [], variant: 'atto', inputSize: 32, batch: 2, iterations: 1, warmup: 0, seed: 1, profile: false,
  ownModel: { name, files: [new File([bytes as Uint8Array<ArrayBuffer>], name)] },
});

describe('demo comparison (cpu, Node)', () => {
  before(async () => {
    (globalThis as { navigator?: unknown }).navigator ??= { userAgent: 'node' };
    await tf.setBackend('cpu');
  });

  it('fills an unknown batch with the batch and unknown spatial dims with the input size', () => {
    assert.deepEqual(comparisonInputShape([-1, 3, -1, -1], 2, 32), [2, 3, 32, 32]);
    assert.deepEqual(comparisonInputShape([-1, 64, 64, 3], 5, 224), [5, 64, 64, 3]);
    assert.deepEqual(comparisonInputShape([1, 3, 64, 64], 8, 32), [1, 3, 64, 64]);
  });

  it('runs an ONNX export with dynamic height / width at the form input size, outputs matching', async () => {
    const results = await runComparison(config('dyn_hw.onnx', smallConvNeXtOnnx(['N', 3, 'H', 'W'])), () => {});
    assert.deepEqual(results.rows.map((r) => r.model), ['own-original', 'own-converted']);
    assert.equal(results.rows[1].batch, 2);
    assert.ok(results.rows[1].maxDiff != null && results.rows[1].maxDiff <= 1e-3, `max diff ${results.rows[1].maxDiff}`);
    assert.ok(results.notes.some((n) => /dynamic.*32px/.test(n)), `a note says which size ran: ${results.notes.join(' / ')}`);
    assert.equal(tf.memory().numTensors, 0, 'no tensor left behind');
  });

  it('leaves no tensor behind when a model fails part-way', async () => {
    // A fixed 2x2 image: the unfused graph runs it (a 4x4/4 conv of a 2x2 image is empty), the fused patch conv throws.
    const before = tf.memory().numTensors;
    await assert.rejects(runComparison(config('tiny_image.onnx', smallConvNeXtOnnx(['N', 3, 2, 2])), () => {}));
    assert.equal(tf.memory().numTensors, before, 'the comparison input was disposed');
  });
});
