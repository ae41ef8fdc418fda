// The ONNX importer's layout pass on small hand-made ONNX models: NCHW -> NHWC with layout transposes
// cancelled, constants permuted, dynamic-batch shape subgraphs, grouped convs, shared initializers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import '../../src/index.js';
import { convertModel } from '../../src/converter/convert.js';
import { toModelArtifacts } from '../../src/converter/graphmodel_writer.js';
import { encodeOnnx, type NodeInput, type TensorInput } from '../support/onnx_builder.js';
import { useBackend } from '../support/node_backends.js';
import { freshSeed, Rng } from '../support/random.js';
import { relL2 } from '../support/converter_fixtures.js';

const seed = freshSeed();

async function runOnnx(bytes: Uint8Array, x: tf.Tensor, opts: { fuse?: boolean; inputLayout?: 'nchw' | 'nhwc' } = {}) {
  const r = convertModel({ format: 'onnx', bytes }, { fuse: opts.fuse ?? false, inputLayout: opts.inputLayout });
  const model = await loadGraphModel(tf.io.fromMemory(toModelArtifacts(r.files)));
  const y = model.execute(x) as tf.Tensor;
  const out = { data: Float32Array.from(await y.data()), shape: y.shape, result: r };
  y.dispose();
  model.dispose();
  return out;
}

const count = (r: { result: { graph: { nodes: { op: string }[] } } }, op: string): number =>
  r.result.graph.nodes.filter((n) => n.op === op).length;

/** NCHW conv reference through tfjs' own NHWC conv. */
function convNchw(x: tf.Tensor4D, w: tf.Tensor4D /* [O, I, kh, kw] */, pad: number, bias?: tf.Tensor1D): tf.Tensor4D {
  const y = tf.conv2d(tf.transpose(x, [0, 2, 3, 1]), tf.transpose(w, [2, 3, 1, 0]) as tf.Tensor4D, 1,
    [[0, 0], [pad, pad], [pad, pad], [0, 0]]);
  return tf.transpose(bias ? tf.add(y, bias) : y, [0, 3, 1, 2]) as tf.Tensor4D;
}

describe(`ONNX layout pass (seed ${seed})`, () => {
  const rng = new Rng(seed);
  const [n, cin, c, h, w] = [2, 3, 8, 5, 6];
  const conv: TensorInput = { dims: [c, cin, 3, 3], float: rng.normals(c * cin * 9, 0.3) };
  const convB: TensorInput = { dims: [c], float: rng.normals(c, 0.1) };
  const gamma: TensorInput = { dims: [c], float: rng.uniforms(c, 0.5, 1.5) };
  const beta: TensorInput = { dims: [c], float: rng.normals(c, 0.1) };
  const ls: TensorInput = { dims: [c, 1, 1], float: rng.uniforms(c, 0.5, 1) };
  const xv = rng.normals(n * cin * h * w);
  // Conv -> Transpose -> LayerNormalization -> Transpose -> Mul(layer scale [C,1,1]) -> Add(conv)
  const lnModel = (): Uint8Array => encodeOnnx({
    inputs: { x: ['N', cin, h, w] }, outputs: { y: ['N', c, h, w] },
    initializers: { W: conv, B: convB, g: gamma, b: beta, ls },
    nodes: [
      { op: 'Conv', inputs: ['x', 'W', 'B'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] } },
      { op: 'Transpose', inputs: ['c'], outputs: ['t'], attrs: { perm: [0, 2, 3, 1] } },
      { op: 'LayerNormalization', inputs: ['t', 'g', 'b'], outputs: ['l'], attrs: { axis: -1, epsilon: 1e-5 } },
      { op: 'Transpose', inputs: ['l'], outputs: ['t2'], attrs: { perm: [0, 3, 1, 2] } },
      { op: 'Mul', inputs: ['ls', 't2'], outputs: ['m'] },
      { op: 'Add', inputs: ['m', 'c'], outputs: ['y'] },
    ] as NodeInput[],
  });
  const lnReference = (): tf.Tensor => tf.tidy(() => {
    const cv = convNchw(tf.tensor4d(xv, [n, cin, h, w]), tf.tensor4d(conv.float!, [c, cin, 3, 3]), 1, tf.tensor1d(convB.float!));
    const t = tf.transpose(cv, [0, 2, 3, 1]);
    const { mean, variance } = tf.moments(t, -1, true);
    const l = tf.add(tf.mul(tf.div(tf.sub(t, mean), tf.sqrt(tf.add(variance, 1e-5))), gamma.float!), beta.float!);
    return tf.add(tf.mul(tf.transpose(l, [0, 3, 1, 2]), tf.tensor3d(ls.float!, [c, 1, 1])), cv);
  });

  it('cancels the Transpose pairs around LayerNorm and permutes the [C,1,1] constant', async () => {
    await useBackend('cpu');
    const x = tf.tensor4d(xv, [n, cin, h, w]);
    const r = await runOnnx(lnModel(), x);
    const want = lnReference();
    assert.deepEqual(r.shape, [n, c, h, w]);
    assert.ok(relL2(r.data, await want.data()) < 1e-5, `rel L2 ${relL2(r.data, await want.data())}`);
    assert.equal(count(r, 'Transpose'), 2, 'one at the NCHW input, one at the NCHW output, none inside');
    tf.dispose([x, want]);
  });

  it('--input-layout nhwc drops the input transpose', async () => {
    await useBackend('cpu');
    const x = tf.transpose(tf.tensor4d(xv, [n, cin, h, w]), [0, 2, 3, 1]);
    const r = await runOnnx(lnModel(), x, { inputLayout: 'nhwc' });
    const want = lnReference();
    assert.ok(relL2(r.data, await want.data()) < 1e-5);
    assert.equal(count(r, 'Transpose'), 1, 'only the NCHW output transpose');
    assert.deepEqual(r.result.graph.inputs[0].shape, [-1, h, w, cin]);
    tf.dispose([x, want]);
  });

  it('GlobalAveragePool + Flatten + Gemm reshapes without a transpose; shared initializer used twice', async () => {
    await useBackend('cpu');
    const fc: TensorInput = { dims: [4, c], float: rng.normals(4 * c, 0.3) };
    const conv2: TensorInput = { dims: [c, c, 3, 3], float: rng.normals(c * c * 9, 0.2) };
    const bytes = encodeOnnx({
      inputs: { x: ['N', cin, h, w] }, outputs: { y: ['N', 4] },
      initializers: { W: conv, B: convB, W2: conv2, fc, fcb: { dims: [4], float: [0.1, 0.2, 0.3, 0.4] } },
      nodes: [
        { op: 'Conv', inputs: ['x', 'W', 'B'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Conv', inputs: ['c', 'W2', 'B'], outputs: ['c2'], attrs: { pads: [1, 1, 1, 1] } }, // B shared
        { op: 'GlobalAveragePool', inputs: ['c2'], outputs: ['p'] },
        { op: 'Flatten', inputs: ['p'], outputs: ['f'], attrs: { axis: 1 } },
        { op: 'Gemm', inputs: ['f', 'fc', 'fcb'], outputs: ['y'], attrs: { transB: 1 } },
      ],
    });
    const x = tf.tensor4d(xv, [n, cin, h, w]);
    const r = await runOnnx(bytes, x);
    const want = tf.tidy(() => {
      const b = tf.tensor1d(convB.float!);
      const c2 = convNchw(convNchw(x, tf.tensor4d(conv.float!, [c, cin, 3, 3]), 1, b), tf.tensor4d(conv2.float!, [c, c, 3, 3]), 1, b);
      return tf.add(tf.matMul(tf.mean(c2, [2, 3]), tf.tensor2d(fc.float!, [4, c]), false, true), [0.1, 0.2, 0.3, 0.4]);
    });
    assert.ok(relL2(r.data, await want.data()) < 1e-5);
    assert.equal(count(r, 'Transpose'), 1, 'only the input transpose');
    tf.dispose([x, want]);
  });

  it('dynamic batch: Shape/Gather/Unsqueeze/Concat feeding Reshape works for any batch', async () => {
    await useBackend('cpu');
    const nodes: NodeInput[] = [
      { op: 'Conv', inputs: ['x', 'W', 'B'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Shape', inputs: ['c'], outputs: ['s'] },
      { op: 'Constant', inputs: [], outputs: ['zero'], attrs: { value: { tensor: { dims: [], int64: [0] } } } },
      { op: 'Gather', inputs: ['s', 'zero'], outputs: ['nb'], attrs: { axis: 0 } },
      { op: 'Unsqueeze', inputs: ['nb', 'axes'], outputs: ['nb1'] },
      { op: 'Concat', inputs: ['nb1', 'minus1'], outputs: ['shape'], attrs: { axis: 0 } },
      { op: 'Reshape', inputs: ['c', 'shape'], outputs: ['y'] },
    ];
    const bytes = encodeOnnx({ inputs: { x: ['N', cin, h, w] }, outputs: { y: ['N', c * h * w] },
      initializers: { W: conv, B: convB, axes: { dims: [1], int64: [0] }, minus1: { dims: [1], int64: [-1] } }, nodes });
    for (const batch of [1, 3]) {
      const xb = tf.tensor4d(rng.normals(batch * cin * h * w), [batch, cin, h, w]);
      const r = await runOnnx(bytes, xb);
      const want = tf.tidy(() => tf.reshape(convNchw(xb, tf.tensor4d(conv.float!, [c, cin, 3, 3]), 1, tf.tensor1d(convB.float!)), [batch, -1]));
      assert.deepEqual(r.shape, [batch, c * h * w]);
      assert.ok(relL2(r.data, await want.data()) < 1e-5, `batch ${batch}`);
      assert.ok(count(r, 'Shape') >= 1, 'the batch size is read at run time');
      tf.dispose([xb, want]);
    }
  });

  it('grouped conv (group 2, 4 -> 6 channels) and depthwise with multiplier 2 match the per-group reference', async () => {
    await useBackend('cpu');
    const [ci, co, groups] = [4, 6, 2];
    const wg: TensorInput = { dims: [co, ci / groups, 3, 3], float: rng.normals(co * 2 * 9, 0.3) };
    const wd: TensorInput = { dims: [2 * co, 1, 3, 3], float: rng.normals(2 * co * 9, 0.3) };
    const bytes = encodeOnnx({ inputs: { x: [2, ci, h, w] }, outputs: { y: [2, 2 * co, h, w] }, initializers: { wg, wd },
      nodes: [
        { op: 'Conv', inputs: ['x', 'wg'], outputs: ['g'], attrs: { pads: [1, 1, 1, 1], group: groups } },
        { op: 'Conv', inputs: ['g', 'wd'], outputs: ['y'], attrs: { pads: [1, 1, 1, 1], group: co } },
      ] });
    const x = tf.tensor4d(rng.normals(2 * ci * h * w), [2, ci, h, w]);
    const r = await runOnnx(bytes, x);
    const want = tf.tidy(() => {
      const wgt = tf.tensor4d(wg.float!, [co, 2, 3, 3]);
      const parts = [0, 1].map((gi) => convNchw(tf.slice(x, [0, gi * 2, 0, 0], [-1, 2, -1, -1]) as tf.Tensor4D,
        tf.slice(wgt, [gi * 3, 0, 0, 0], [3, -1, -1, -1]) as tf.Tensor4D, 1));
      const g = tf.concat(parts, 1) as tf.Tensor4D;
      const wdt = tf.tensor4d(wd.float!, [2 * co, 1, 3, 3]);
      // depthwise, multiplier 2: output channel j reads input floor(j / 2)
      const outs = Array.from({ length: 2 * co }, (_, j) => convNchw(tf.slice(g, [0, Math.floor(j / 2), 0, 0], [-1, 1, -1, -1]) as tf.Tensor4D,
        tf.slice(wdt, [j, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D, 1));
      return tf.concat(outs, 1);
    });
    assert.ok(relL2(r.data, await want.data()) < 1e-5, `rel L2 ${relL2(r.data, await want.data())}`);
    assert.equal(count(r, 'DepthwiseConv2dNative'), 2);
    tf.dispose([x, want]);
  });

  it('an official-ConvNeXt style block (channels_first split LayerNorm over axis 1, 1x1 Conv MLP, Gelu) fuses', async () => {
    await useBackend('cpu');
    const [cc, d] = [8, 16];
    const init: Record<string, TensorInput> = {
      dw: { dims: [cc, 1, 7, 7], float: rng.normals(cc * 49, 0.15) }, dwb: { dims: [cc], float: rng.normals(cc, 0.1) },
      g: { dims: [cc, 1, 1], float: rng.uniforms(cc, 0.5, 1.5) }, b: { dims: [cc, 1, 1], float: rng.normals(cc, 0.1) },
      w1: { dims: [d, cc, 1, 1], float: rng.normals(d * cc, 0.35) }, b1: { dims: [d], float: rng.normals(d, 0.1) },
      w2: { dims: [cc, d, 1, 1], float: rng.normals(d * cc, 0.25) }, b2: { dims: [cc], float: rng.normals(cc, 0.1) },
      ls: { dims: [cc, 1, 1], float: rng.uniforms(cc, 0.5, 1) }, two: { dims: [], float: [2] }, eps: { dims: [], float: [1e-6] },
    };
    const bytes = encodeOnnx({ opset: 20, inputs: { x: ['N', cc, h, w] }, outputs: { y: ['N', cc, h, w] }, initializers: init,
      nodes: [
        { op: 'Conv', inputs: ['x', 'dw', 'dwb'], outputs: ['d'], attrs: { pads: [3, 3, 3, 3], group: cc, kernel_shape: [7, 7] } },
        { op: 'ReduceMean', inputs: ['d'], outputs: ['u'], attrs: { axes: [1], keepdims: 1 } },
        { op: 'Sub', inputs: ['d', 'u'], outputs: ['dc'] },
        { op: 'Pow', inputs: ['dc', 'two'], outputs: ['p'] },
        { op: 'ReduceMean', inputs: ['p'], outputs: ['s'], attrs: { axes: [1], keepdims: 1 } },
        { op: 'Add', inputs: ['s', 'eps'], outputs: ['se'] },
        { op: 'Sqrt', inputs: ['se'], outputs: ['sq'] },
        { op: 'Div', inputs: ['dc', 'sq'], outputs: ['nrm'] },
        { op: 'Mul', inputs: ['g', 'nrm'], outputs: ['gn'] },
        { op: 'Add', inputs: ['gn', 'b'], outputs: ['ln'] },
        { op: 'Conv', inputs: ['ln', 'w1', 'b1'], outputs: ['h1'] },
        { op: 'Gelu', inputs: ['h1'], outputs: ['a'] },
        { op: 'Conv', inputs: ['a', 'w2', 'b2'], outputs: ['h2'] },
        { op: 'Mul', inputs: ['h2', 'ls'], outputs: ['o'] },
        { op: 'Add', inputs: ['x', 'o'], outputs: ['y'] },
      ] as NodeInput[] });
    const x = tf.tensor4d(rng.normals(2 * cc * h * w), [2, cc, h, w]);
    const unfused = await runOnnx(bytes, x);
    const fused = await runOnnx(bytes, x, { fuse: true });
    assert.equal(count(fused, 'FusedConvNeXtBlock'), 1);
    assert.ok(relL2(fused.data, unfused.data) < 1e-5, `fused vs unfused ${relL2(fused.data, unfused.data)}`);
    x.dispose();
  });
});
