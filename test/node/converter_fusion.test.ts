// Unit tests for each fusion pattern: small blocks built in IR in every form the importers produce,
// fused, run on cpu and compared with the float64 oracle; plus the cases that must NOT fuse.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '../../src/index.js';
import { fuseBlocks } from '../../src/converter/fusion.js';
import { attr, type Graph } from '../../src/converter/ir.js';
import { GraphBuilder } from '../../src/converter/ir_builder.js';
import type { Activation } from '../../src/spec/activations.js';
import { FUSED_CONVFIRST_BLOCK, FUSED_CONVNEXT_BLOCK } from '../../src/spec/block_spec.js';
import { addConvNeXtBlock, convfirstWeights, convnextWeights, runGraph } from '../support/converter_blocks.js';
import { useBackend } from '../support/node_backends.js';
import { freshSeed, Rng } from '../support/random.js';
import { convfirst64, convnext64, type ConvNeXtWeights64 } from '../support/reference64.js';
import { relL2 } from '../support/converter_fixtures.js';

const seed = freshSeed();
const [N, H, W] = [2, 5, 6];

async function run(g: Graph, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const t = tf.tensor(x, shape);
  try {
    return await runGraph(g, t);
  } finally {
    t.dispose();
  }
}

/** Fuses g, checks the fused-node count and that fused and unfused outputs both match the oracle. */
async function checkFusion(g: Graph, op: string, expected: number, x: Float32Array, want: Float64Array | null, c: number): Promise<Graph> {
  await useBackend('cpu');
  const fused = fuseBlocks(g);
  assert.equal(fused.graph.nodes.filter((n) => n.op === op).length, expected, `${expected} ${op} node(s)`);
  const shape = [N, H, W, c];
  const a = await run(g, x, shape);
  const b = await run(fused.graph, x, shape);
  if (want) {
    assert.ok(relL2(a, want) < 1e-5, `unfused vs oracle ${relL2(a, want)}`);
    assert.ok(relL2(b, want) < 1e-5, `fused vs oracle ${relL2(b, want)}`);
  }
  assert.ok(relL2(b, a) < 1e-5, `fused vs unfused ${relL2(b, a)}`);
  return fused.graph;
}

/** Keras-style block: FusedDepthwiseConv2dNative, Mean/SquaredDifference/Rsqrt/Neg/AddN LayerNorm,
 * tensordot MLP (Reshape - MatMul - Reshape with a dynamic Shape/GatherV2/Prod/Pack shape), BiasAdd. */
function kerasBlock(b: GraphBuilder, x: string, wt: ConvNeXtWeights64, c: number, d: number, k: number, eps: number): string {
  const dw = b.op('FusedDepthwiseConv2dNative', [x, b.weight('dw', [k, k, c, 1], wt.dwFilter), b.weight('dwb', [c], wt.dwBias)], {
    strides: attr.ints([1, 1, 1, 1]), padding: attr.s('SAME'), data_format: attr.s('NHWC'), dilations: attr.ints([1, 1, 1, 1]),
    fused_ops: attr.strs(['BiasAdd']), num_args: attr.i(1) });
  const mean = b.mean(dw, [3]);
  const variance = b.mean(b.op('SquaredDifference', [dw, mean]), [3]);
  const s = b.mul(b.unary('Rsqrt', b.add(variance, b.scalar('eps', eps))), b.weight('g', [1, 1, 1, c], wt.lnGamma));
  const ln = b.add(b.weight('beta', [1, 1, 1, c], wt.lnBeta), b.op('AddN', [b.mul(dw, s), b.mul(b.unary('Neg', mean), s)], { N: attr.i(2) }));
  const dense = (inp: string, w: string, bias: string, cin: number, cout: number): string => {
    const shp = b.op('Shape', [inp], { out_type: attr.type('int32') });
    const free = b.op('GatherV2', [shp, b.ints('free', [0, 1, 2]), b.ints('ax', [0], [])], { batch_dims: attr.i(0) });
    const prod = b.op('Prod', [free, b.ints('ax0', [0])], { keep_dims: attr.b(false) });
    const flat = b.reshape(inp, b.op('Pack', [prod, b.ints('cin', [cin], [])], { axis: attr.i(0), N: attr.i(2) }));
    const mm = b.op('MatMul', [flat, w], { transpose_a: attr.b(false), transpose_b: attr.b(false) });
    const back = b.reshape(mm, b.concat([free, b.ints('cout', [cout])], 0));
    return b.biasAdd(back, bias);
  };
  const z = dense(ln, b.weight('w1', [c, d], wt.w1), b.weight('b1', [d], wt.b1), c, d);
  const gelu = b.mul(b.mul(b.scalar('half', 0.5), z), b.add(b.scalar('one', 1), b.unary('Erf', b.mul(z, b.scalar('r2', Math.SQRT1_2)))));
  const y = dense(gelu, b.weight('w2', [d, c], wt.w2), b.weight('b2', [c], wt.b2), d, c);
  return b.add(x, b.mul(y, b.weight('ls', [c], wt.layerScale as Float32Array)));
}

/** timm conv_mlp form: 1x1 Conv2D MLP; LayerNorm in the split Div/Sqrt/Pow form. */
function timmSplitLnBlock(b: GraphBuilder, x: string, wt: ConvNeXtWeights64, c: number, d: number, k: number, eps: number): string {
  const dw = b.depthwiseConv2d(x, b.weight('dw', [k, k, c, 1], wt.dwFilter), { padding: [(k - 1) / 2, (k - 1) / 2, (k - 1) / 2, (k - 1) / 2] });
  const dwb = b.add(b.weight('dwb', [c], wt.dwBias), dw);
  const centered = b.sub(dwb, b.mean(dwb, [-1]));
  const variance = b.mean(b.pow(centered, b.scalar('two', 2)), [-1]);
  const normed = b.div(centered, b.unary('Sqrt', b.add(variance, b.scalar('eps', eps))));
  const ln = b.add(b.mul(b.weight('g', [c], wt.lnGamma), normed), b.weight('beta', [c], wt.lnBeta));
  const h = b.gelu(b.conv2d(ln, b.weight('w1', [1, 1, c, d], wt.w1), { bias: b.weight('b1', [d], wt.b1) }));
  const y = b.conv2d(h, b.weight('w2', [1, 1, d, c], wt.w2), { bias: b.weight('b2', [c], wt.b2) });
  return b.add(b.mul(b.weight('ls', [1, 1, 1, c], wt.layerScale as Float32Array), y), x);
}

describe(`fusion patterns (seed ${seed})`, () => {
  const rng = new Rng(seed);
  // eps is not the op default (1e-6): a fused node that ignored its epsilon attr would still match otherwise.
  const [c, d, k, eps] = [12, 36, 7, 1e-2];

  for (const act of ['gelu', 'gelu_tanh', 'silu', 'relu', 'relu6'] as Activation[]) {
    for (const ls of [true, false]) {
      it(`ConvNeXt, builder form (MatMul MLP), ${act}, layer scale ${ls}`, async () => {
        const wt = convnextWeights(rng, c, d, k, ls);
        const b = new GraphBuilder();
        b.output(addConvNeXtBlock(b, b.input('x', [-1, H, W, c]), wt, c, d, k, eps, act));
        const x = rng.normals(N * H * W * c);
        const g = await checkFusion(b.graph, FUSED_CONVNEXT_BLOCK, 1, x, convnext64(x, { n: N, h: H, w: W, c }, k, d, wt, eps, act), c);
        const node = g.nodes.find((n) => n.op === FUSED_CONVNEXT_BLOCK)!;
        assert.equal(node.inputs.length, ls ? 10 : 9);
        assert.deepEqual(node.attrs.activation, attr.s(act));
        assert.equal(g.nodes.length, 1, 'only the fused node remains');
      });
    }
  }

  it('ConvNeXt, Keras form (FusedDepthwise, AddN LayerNorm, tensordot MLP with dynamic shapes)', async () => {
    const wt = convnextWeights(rng, c, d, k);
    const b = new GraphBuilder();
    b.output(kerasBlock(b, b.input('x', [-1, H, W, c]), wt, c, d, k, eps));
    const x = rng.normals(N * H * W * c);
    const g = await checkFusion(b.graph, FUSED_CONVNEXT_BLOCK, 1, x, convnext64(x, { n: N, h: H, w: W, c }, k, d, wt, eps, 'gelu'), c);
    assert.equal(g.nodes.length, 1, 'the shape arithmetic died with the block');
  });

  it('ConvNeXt, timm conv_mlp form (1x1 Conv2D MLP) with the split Div/Sqrt/Pow LayerNorm, explicit padding', async () => {
    const wt = convnextWeights(rng, c, d, k);
    const b = new GraphBuilder();
    b.output(timmSplitLnBlock(b, b.input('x', [-1, H, W, c]), wt, c, d, k, eps));
    const x = rng.normals(N * H * W * c);
    await checkFusion(b.graph, FUSED_CONVNEXT_BLOCK, 1, x, convnext64(x, { n: N, h: H, w: W, c }, k, d, wt, eps, 'gelu'), c);
  });

  it('two chained ConvNeXt blocks both fuse and the second reads the first', async () => {
    const [w1, w2] = [convnextWeights(rng, c, d, k), convnextWeights(rng, c, d, k)];
    const b = new GraphBuilder();
    const x0 = b.input('x', [-1, H, W, c]);
    b.output(addConvNeXtBlock(b, addConvNeXtBlock(b, x0, w1, c, d, k, eps), w2, c, d, k, eps));
    const x = rng.normals(N * H * W * c);
    const mid = Float32Array.from(convnext64(x, { n: N, h: H, w: W, c }, k, d, w1, eps, 'gelu'));
    const g = await checkFusion(b.graph, FUSED_CONVNEXT_BLOCK, 2, x, convnext64(mid, { n: N, h: H, w: W, c }, k, d, w2, eps, 'gelu'), c);
    const [f1, f2] = g.nodes.filter((n) => n.op === FUSED_CONVNEXT_BLOCK);
    assert.equal(f2.inputs[0], f1.name);
  });

  it('fusing the unfused graph gives the hand-built fused graph (same op, attrs and weights)', () => {
    const wt = convnextWeights(rng, c, d, k);
    const u = new GraphBuilder();
    u.output(addConvNeXtBlock(u, u.input('x', [-1, H, W, c]), wt, c, d, k, eps));
    const f = new GraphBuilder();
    const ws = [f.weight('dw', [k, k, c, 1], wt.dwFilter), f.weight('dwb', [c], wt.dwBias), f.weight('g', [c], wt.lnGamma),
      f.weight('b', [c], wt.lnBeta), f.weight('w1', [c, d], wt.w1), f.weight('b1', [d], wt.b1), f.weight('w2', [d, c], wt.w2),
      f.weight('b2', [c], wt.b2), f.weight('ls', [c], wt.layerScale!)];
    // the unfused graph holds epsilon as a float32 constant
    f.output(f.fusedConvNeXtBlock(f.input('x', [-1, H, W, c]), ws, { epsilon: Math.fround(eps), activation: 'gelu' }));
    const got = fuseBlocks(u.graph).graph;
    const [gn] = got.nodes;
    const [wn] = f.graph.nodes;
    assert.equal(got.nodes.length, f.graph.nodes.length);
    assert.equal(gn.op, wn.op);
    assert.deepEqual(gn.attrs, wn.attrs);
    gn.inputs.slice(1).forEach((v, i) => {
      const a = got.constants.get(v)!;
      const e = f.graph.constants.get(wn.inputs[i + 1])!;
      assert.deepEqual(a.shape, e.shape, `input ${i + 1} shape`);
      assert.deepEqual(a.data, e.data, `input ${i + 1} values`);
    });
  });

  for (const [g, act] of [[4, 'silu'], [1, 'gelu'], [12, 'relu6'], [3, 'relu']] as [number, Activation][]) {
    it(`ConvFirst, group width ${g}, ${act}`, async () => {
      const k3 = 3;
      const wt = convfirstWeights(rng, c, d, k3, g);
      const b = new GraphBuilder();
      const xin = b.input('x', [-1, H, W, c]);
      const conv = b.groupedConv2d(xin, wt.filter, [k3, k3, g, c], { bias: b.weight('bias', [c], wt.bias) });
      const h = act === 'relu6' ? b.clip(b.conv2d(conv, b.weight('w1', [1, 1, c, d], wt.w1), { bias: b.weight('b1', [d], wt.b1) }), 0, 6)
        : b.activation(b.conv2d(conv, b.weight('w1', [1, 1, c, d], wt.w1), { bias: b.weight('b1', [d], wt.b1) }), act);
      b.output(b.add(xin, b.conv2d(h, b.weight('w2', [1, 1, d, c], wt.w2), { bias: b.weight('b2', [c], wt.b2) })));
      const x = rng.normals(N * H * W * c);
      const fused = await checkFusion(b.graph, FUSED_CONVFIRST_BLOCK, 1, x, convfirst64(x, { n: N, h: H, w: W, c }, k3, g, d, wt, act, true), c);
      const node = fused.nodes.find((n) => n.op === FUSED_CONVFIRST_BLOCK)!;
      assert.deepEqual(fused.constants.get(node.inputs[1])!.shape, [k3, k3, g, c]);
    });
  }

  it('ConvFirst with unfolded BatchNorms (Mul + Add after each conv, as ONNX BatchNormalization lowers) folds them', async () => {
    const [k3, g] = [3, 4];
    const wt = convfirstWeights(rng, c, d, k3, g);
    const bn = (n: number) => ({ s: rng.uniforms(n, 0.5, 1.5), t: rng.normals(n, 0.1) });
    const [bn0, bn1, bn2] = [bn(c), bn(d), bn(c)];
    const b = new GraphBuilder();
    const xin = b.input('x', [-1, H, W, c]);
    const affine = (y: string, p: { s: Float32Array; t: Float32Array }, n: number) =>
      b.add(b.mul(y, b.weight('bn_s', [n], p.s)), b.weight('bn_t', [n], p.t));
    const conv = affine(b.groupedConv2d(xin, wt.filter, [k3, k3, g, c], { bias: b.weight('bias', [c], wt.bias) }), bn0, c);
    const h = b.silu(affine(b.conv2d(conv, b.weight('w1', [1, 1, c, d], wt.w1), { bias: b.weight('b1', [d], wt.b1) }), bn1, d));
    b.output(b.add(xin, affine(b.conv2d(h, b.weight('w2', [1, 1, d, c], wt.w2), { bias: b.weight('b2', [c], wt.b2) }), bn2, c)));
    // the same block with the BatchNorms folded by hand, in float64
    const fold = (w: Float32Array, bias: Float32Array, p: { s: Float32Array; t: Float32Array }) => {
      const n = bias.length;
      return { w: Float32Array.from(w, (v, i) => v * p.s[i % n]), b: Float32Array.from(bias, (v, o) => v * p.s[o] + p.t[o]) };
    };
    const [f0, f1, f2] = [fold(wt.filter, wt.bias, bn0), fold(wt.w1, wt.b1, bn1), fold(wt.w2, wt.b2, bn2)];
    const folded = { filter: f0.w, bias: f0.b, w1: f1.w, b1: f1.b, w2: f2.w, b2: f2.b };
    const x = rng.normals(N * H * W * c);
    await checkFusion(b.graph, FUSED_CONVFIRST_BLOCK, 1, x, convfirst64(x, { n: N, h: H, w: W, c }, k3, g, d, folded, 'silu', true), c);
  });

  for (const act of ['relu', 'relu6'] as Activation[]) {
    it(`ConvFirst as tensorflowjs_converter writes it: _FusedConv2D with [BiasAdd, ${act === 'relu' ? 'Relu' : 'Relu6'}]`, async () => {
      const [k3, g] = [3, 1];
      const wt = convfirstWeights(rng, c, d, k3, g);
      const b = new GraphBuilder();
      const xin = b.input('x', [-1, H, W, c]);
      const conv = (op: string, inp: string, f: string, bias: string, fused: string[]) => b.op(op, [inp, f, bias], {
        strides: attr.ints([1, 1, 1, 1]), padding: attr.s('SAME'), data_format: attr.s('NHWC'), dilations: attr.ints([1, 1, 1, 1]),
        fused_ops: attr.strs(fused), num_args: attr.i(1) });
      const spatial = conv('FusedDepthwiseConv2dNative', xin, b.weight('f', [k3, k3, c, 1], wt.filter), b.weight('fb', [c], wt.bias), ['BiasAdd']);
      const h = conv('_FusedConv2D', spatial, b.weight('w1', [1, 1, c, d], wt.w1), b.weight('b1', [d], wt.b1), ['BiasAdd', act === 'relu' ? 'Relu' : 'Relu6']);
      b.output(b.add(conv('_FusedConv2D', h, b.weight('w2', [1, 1, d, c], wt.w2), b.weight('b2', [c], wt.b2), ['BiasAdd']), xin));
      const x = rng.normals(N * H * W * c);
      await checkFusion(b.graph, FUSED_CONVFIRST_BLOCK, 1, x, convfirst64(x, { n: N, h: H, w: W, c }, k3, g, d, wt, act, true), c);
    });
  }

  it('does not fuse when a block intermediate is read elsewhere (kept correct)', async () => {
    const wt = convnextWeights(rng, c, d, k);
    const b = new GraphBuilder();
    const xin = b.input('x', [-1, H, W, c]);
    const y = addConvNeXtBlock(b, xin, wt, c, d, k, eps);
    const dwNode = b.graph.nodes.find((n) => n.op === 'DepthwiseConv2dNative')!;
    b.output(b.add(y, b.mul(dwNode.name, b.scalar('s', 0))));
    const x = rng.normals(N * H * W * c);
    await checkFusion(b.graph, FUSED_CONVNEXT_BLOCK, 0, x, convnext64(x, { n: N, h: H, w: W, c }, k, d, wt, eps, 'gelu'), c);
  });

  it('does not fuse a strided depthwise conv, an MBConv block, or a block without residual', async () => {
    await useBackend('cpu');
    const wt = convnextWeights(rng, c, d, k);
    const strided = new GraphBuilder();
    const xs = strided.input('x', [-1, H, W, c]);
    addConvNeXtBlock(strided, xs, wt, c, d, k, eps);
    strided.graph.nodes.find((n) => n.op === 'DepthwiseConv2dNative')!.attrs.strides = attr.ints([1, 2, 2, 1]);
    strided.output(strided.graph.nodes[strided.graph.nodes.length - 1].name);
    assert.equal(fuseBlocks(strided.graph).blocks.length, 0);
    // MBConv: 1x1 expand, ReLU6, 3x3 depthwise, ReLU6, 1x1 project, residual
    const m = new GraphBuilder();
    const xm = m.input('x', [-1, H, W, c]);
    const e = m.unary('Relu6', m.conv2d(xm, m.weight('e', [1, 1, c, d], rng.normals(c * d, 0.3)), { bias: m.weight('eb', [d], rng.normals(d)) }));
    const dwm = m.unary('Relu6', m.depthwiseConv2d(e, m.weight('dw', [3, 3, d, 1], rng.normals(9 * d, 0.3)), { bias: m.weight('db', [d], rng.normals(d)) }));
    m.output(m.add(xm, m.conv2d(dwm, m.weight('p', [1, 1, d, c], rng.normals(c * d, 0.3)), { bias: m.weight('pb', [c], rng.normals(c)) })));
    assert.equal(fuseBlocks(m.graph).blocks.length, 0);
    const nr = new GraphBuilder();
    const xn = nr.input('x', [-1, H, W, c]);
    addConvNeXtBlock(nr, xn, wt, c, d, k, eps);
    const last = nr.graph.nodes[nr.graph.nodes.length - 1];
    nr.output(last.inputs[1]); // the branch without the residual Add
    assert.equal(fuseBlocks(nr.graph).blocks.length, 0);
  });

  // Each off by ~0.1%-2%: within the old 1e-3 absolute tolerance, which fused them as the exact activation
  // (max abs difference up to 4.8e-3 vs the unfused graph). float32 constants must equal the ideal to float32 rounding.
  const offGelus: [string, (b: GraphBuilder, z: string) => string][] = [
    ['erf GELU with 0.5009 for 0.5', (b, z) => b.mul(b.mul(z, b.add(b.unary('Erf', b.div(z, b.scalar('r2', Math.SQRT2))),
      b.scalar('one', 1))), b.scalar('half', 0.5009))],
    ['erf GELU with 1.4155 for sqrt 2', (b, z) => b.mul(b.mul(z, b.add(b.unary('Erf', b.div(z, b.scalar('r2', 1.4155))),
      b.scalar('one', 1))), b.scalar('half', 0.5))],
    ['tanh GELU with 0.0457 for 0.044715', (b, z) => {
      const inner = b.mul(b.add(z, b.mul(b.mul(b.mul(z, z), z), b.scalar('c', 0.0457))), b.scalar('s', Math.sqrt(2 / Math.PI)));
      return b.mul(b.mul(z, b.add(b.unary('Tanh', inner), b.scalar('one', 1))), b.scalar('half', 0.5));
    }],
  ];
  for (const [name, act] of offGelus) {
    it(`does not fuse an activation whose constants are off: ${name}`, async () => {
      const wt = convnextWeights(rng, c, d, k);
      const b = new GraphBuilder();
      const xin = b.input('x', [-1, H, W, c]);
      const dw = b.depthwiseConv2d(xin, b.weight('dw', [k, k, c, 1], wt.dwFilter), { bias: b.weight('dwb', [c], wt.dwBias) });
      const ln = b.layerNorm(dw, b.weight('g', [c], wt.lnGamma), b.weight('be', [c], wt.lnBeta), eps);
      const h = act(b, b.biasAdd(b.matMul(ln, b.weight('w1', [c, d], wt.w1), 4), b.weight('b1', [d], wt.b1)));
      b.output(b.add(xin, b.biasAdd(b.matMul(h, b.weight('w2', [d, c], wt.w2), 4), b.weight('b2', [c], wt.b2))));
      await checkFusion(b.graph, FUSED_CONVNEXT_BLOCK, 0, rng.normals(N * H * W * c), null, c);
    });
  }

  /** A ConvNeXt block (no layer scale) whose activation `act` writes. */
  function blockWithActivation(b: GraphBuilder, wt: ConvNeXtWeights64, act: (b: GraphBuilder, z: string) => string): void {
    const xin = b.input('x', [-1, H, W, c]);
    const dw = b.depthwiseConv2d(xin, b.weight('dw', [k, k, c, 1], wt.dwFilter), { bias: b.weight('dwb', [c], wt.dwBias) });
    const ln = b.layerNorm(dw, b.weight('g', [c], wt.lnGamma), b.weight('be', [c], wt.lnBeta), eps);
    const h = act(b, b.biasAdd(b.matMul(ln, b.weight('w1', [c, d], wt.w1), 4), b.weight('b1', [d], wt.b1)));
    b.output(b.add(xin, b.biasAdd(b.matMul(h, b.weight('w2', [d, c], wt.w2), 4), b.weight('b2', [c], wt.b2))));
  }

  // Hugging Face's FastGELUActivation: 0.5 z (1 + tanh(z * 0.7978845608 * (1 + 0.044715 z z))), tanh GELU rewritten.
  const fastGelu = (coefficient: number, power: 'z z' | 'Pow') => (b: GraphBuilder, z: string): string => {
    const square = power === 'Pow' ? b.pow(z, b.scalar('p2', 2)) : b.mul(z, z);
    const poly = b.add(b.scalar('one_', 1), b.mul(b.scalar('c', coefficient), square));
    const inner = b.mul(b.mul(z, b.scalar('s', 0.7978845608)), poly);
    return b.mul(b.scalar('half', 0.5), b.mul(z, b.add(b.scalar('one', 1), b.unary('Tanh', inner))));
  };

  for (const power of ['z z', 'Pow'] as const) {
    it(`fuses FastGELU's algebraic form (z^2 as ${power}) as tanh GELU`, async () => {
      const wt = convnextWeights(rng, c, d, k, false);
      const b = new GraphBuilder();
      blockWithActivation(b, wt, fastGelu(0.044715, power));
      const x = rng.normals(N * H * W * c);
      const g = await checkFusion(b.graph, FUSED_CONVNEXT_BLOCK, 1, x,
        convnext64(x, { n: N, h: H, w: W, c }, k, d, wt, eps, 'gelu_tanh'), c);
      assert.deepEqual(g.nodes[0].attrs.activation, attr.s('gelu_tanh'));
      assert.equal(g.nodes.length, 1, 'only the fused node remains');
    });
  }

  it("does not fuse FastGELU's form with 0.0457 for 0.044715", async () => {
    const wt = convnextWeights(rng, c, d, k, false);
    const b = new GraphBuilder();
    blockWithActivation(b, wt, fastGelu(0.0457, 'z z'));
    await checkFusion(b.graph, FUSED_CONVNEXT_BLOCK, 0, rng.normals(N * H * W * c), null, c);
  });

  it('fuses GELU whose structural constants are stored as float16 (their rounding accepted)', async () => {
    const wt = convnextWeights(rng, c, d, k);
    const b = new GraphBuilder();
    b.output(addConvNeXtBlock(b, b.input('x', [-1, H, W, c]), wt, c, d, k, eps));
    // float16 rounding of sqrt 2 (1.4140625): 1.1e-4 off
    const r2 = [...b.graph.constants.keys()].find((n) => n.startsWith('sqrt2'))!;
    b.graph.constants.set(r2, { ...b.graph.constants.get(r2)!, data: Float32Array.of(1.4140625), precision: 'float16' });
    assert.equal(fuseBlocks(b.graph).counts.convnext, 1);
  });

  it('ConvNeXt with a scalar layer scale ([] and [1]) fuses, the scalar broadcast to [C]', async () => {
    for (const shape of [[], [1]]) {
      const wt = convnextWeights(rng, c, d, k, false);
      const b = new GraphBuilder();
      const xin = b.input('x', [-1, H, W, c]);
      const block = addConvNeXtBlock(b, xin, wt, c, d, k, eps);
      // put the scale between the MLP and the residual Add
      const add = b.graph.nodes.find((n) => n.name === block)!;
      add.inputs[1] = b.mul(add.inputs[1], b.graph.addFloatConst('ls', shape, [0.625]));
      b.graph.topoSort();
      b.output(block);
      const x = rng.normals(N * H * W * c);
      const want = convnext64(x, { n: N, h: H, w: W, c }, k, d, { ...wt, layerScale: new Float32Array(c).fill(0.625) }, eps, 'gelu');
      const g = await checkFusion(b.graph, FUSED_CONVNEXT_BLOCK, 1, x, want, c);
      assert.equal(g.nodes[0].inputs.length, 10, `shape [${shape}]: the layer scale is an input`);
    }
  });

  it('fuseBlocks leaves its input graph unchanged', () => {
    const wt = convnextWeights(rng, c, d, k);
    const b = new GraphBuilder();
    b.output(addConvNeXtBlock(b, b.input('x', [-1, H, W, c]), wt, c, d, k, eps));
    const before = JSON.stringify(b.graph.nodes);
    fuseBlocks(b.graph);
    assert.equal(JSON.stringify(b.graph.nodes), before);
  });
});

describe('constant folding', () => {
  it('folds data movement and single IEEE ops on constants exactly, leaves the rest', async () => {
    const { foldConstants } = await import('../../src/converter/const_fold.js');
    const b = new GraphBuilder();
    const x = b.input('x', [2, 3]);
    const w = b.weight('w', [3, 2], [1, 2, 3, 4, 5, 6]);
    const t = b.transpose(w, [1, 0]); // [2, 3]
    const s = b.div(b.add(b.mul(t, b.scalar('k', 0.1)), b.scalar('o', 1 / 3)), b.scalar('d', 7));
    const r = b.unary('Rsqrt', b.scalar('r', 2)); // not exact in JS: kept
    b.output(b.mul(b.add(x, s), r));
    const g = b.graph;
    const folded = foldConstants(g);
    assert.equal(folded, 4);
    assert.deepEqual(g.nodes.map((n) => n.op).sort(), ['AddV2', 'Mul', 'Rsqrt']);
    const sv = g.constants.get(g.nodes.find((n) => n.op === 'AddV2')!.inputs[1])!;
    assert.deepEqual(sv.shape, [2, 3]);
    const f = Math.fround;
    const expect = [1, 3, 5, 2, 4, 6].map((v) => f(f(f(f(v * f(0.1)) + f(1 / 3))) / 7));
    assert.deepEqual(Array.from(sv.data), expect);
  });
});
