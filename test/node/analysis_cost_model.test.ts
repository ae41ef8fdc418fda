import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '../../src/index.js';
import { convfirstBlock, convnextBlock, patchConv } from '../../src/index.js';
import { ACTIVATION_FLOPS, blockFlops, kernelCost, recordCost } from '../../src/analysis/cost_model.js';
import { traceKernels } from '../../src/analysis/kernel_trace.js';
import { useBackend } from '../support/node_backends.js';

// Every expected value below is worked out by hand in the comment next to it.

describe('cost model: convolutions', () => {
  it('conv2d: 2 x outputs x kh x kw x Cin', () => {
    // out 2*9*9*7 = 1134 elements, each 3*3*5 = 45 MACs: 2 * 1134 * 45 = 102060 FLOPs.
    // bytes: x 2*9*9*5 = 810, filter 3*3*5*7 = 315, y 1134 -> 2259 elements * 4 = 9036.
    const c = kernelCost('Conv2D', [[2, 9, 9, 5], [3, 3, 5, 7]], [[2, 9, 9, 7]]);
    assert.equal(c.flops, 102060);
    assert.equal(c.bytes, 9036);
    assert.equal(c.intensity, 102060 / 9036);
    assert.equal(c.category, 'conv2d');
  });

  it('strided fused conv2d with bias: conv + 1 per output', () => {
    // patchify stem: out 1*2*2*16 = 64, each 4*4*3 = 48 MACs -> 6144, + 64 bias adds = 6208.
    const c = kernelCost('FusedConv2D', [[1, 8, 8, 3], [4, 4, 3, 16], [16]], [[1, 2, 2, 16]]);
    assert.equal(c.flops, 6208);
    // x 192 + filter 768 + bias 16 + y 64 = 1040 elements.
    assert.equal(c.bytes, 1040 * 4);
  });

  it('depthwise: 2 x outputs x kh x kw', () => {
    // out 6*6*4 = 144, each 7*7 = 49 MACs: 14112. bytes (144 + 196 + 144) * 4 = 1936.
    const c = kernelCost('DepthwiseConv2dNative', [[1, 6, 6, 4], [7, 7, 4, 1]], [[1, 6, 6, 4]]);
    assert.deepEqual([c.flops, c.bytes, c.category], [14112, 1936, 'depthwise']);
  });

  it('grouped conv in the reference\'s depthwise-with-multiplier form has the grouped conv\'s FLOPs', () => {
    // C = 16, group width G = 8, 3x3, 5x5 pixels. A true grouped conv: 25 px * 16 outputs * 9 * 8 MACs
    // = 28800 MACs = 57600 FLOPs. The reference runs depthwise with multiplier 8 (filter [3,3,16,8],
    // 128 output channels of 9 MACs each: 25 * 128 * 9 = 28800 MACs) ...
    const dw = kernelCost('DepthwiseConv2dNative', [[1, 5, 5, 16], [3, 3, 16, 8]], [[1, 5, 5, 128]]);
    assert.equal(dw.flops, 57600);
    // ... then sums each group's 8 partials: one FLOP per input element, 25 * 2 * 8 * 8 = 3200.
    const sum = kernelCost('Sum', [[1, 5, 5, 2, 8, 8]], [[1, 5, 5, 2, 8]]);
    assert.equal(sum.flops, 3200);
    // A Conv2D given the grouped filter [3,3,8,16] (G inputs per output) counts the same 57600.
    assert.equal(kernelCost('Conv2D', [[1, 5, 5, 16], [3, 3, 8, 16]], [[1, 5, 5, 16]]).flops, 57600);
  });

  it('pooling window from the shapes, or from attrs', () => {
    // 2x2 window inferred from 8 -> 4: 4*4*4 = 64 outputs * 4 = 256; a 3x3 window: 64 * 9 = 576.
    assert.equal(kernelCost('MaxPool', [[1, 8, 8, 4]], [[1, 4, 4, 4]]).flops, 256);
    assert.equal(kernelCost('AvgPool', [[1, 8, 8, 4]], [[1, 4, 4, 4]], { filterSize: [3, 3] }).flops, 576);
  });

  it('a conv without a 4-D filter is an error naming the kernel', () => {
    assert.throws(() => kernelCost('Conv2D', [[1, 4, 4, 3], [3, 3]], [[1, 4, 4, 3]]), /Conv2D needs a 4-D filter/);
  });
});

describe('cost model: matmul, elementwise, reductions', () => {
  it('matmul: 2 x outputs x K, whatever the transposes', () => {
    // [6,10] x [10,4]: 24 outputs * 10 MACs = 240 MACs = 480 FLOPs; bytes (60 + 40 + 24) * 4 = 496.
    const c = kernelCost('MatMul', [[6, 10], [10, 4]], [[6, 4]]);
    assert.deepEqual([c.flops, c.bytes], [480, 496]);
    // a transposed ([10,6]) still has K = 10.
    assert.equal(kernelCost('MatMul', [[10, 6], [4, 10]], [[6, 4]]).flops, 480);
    // batched [3,6,10] x [3,10,4]: 72 outputs * 10 = 720 MACs = 1440.
    assert.equal(kernelCost('BatchMatMul', [[3, 6, 10], [3, 10, 4]], [[3, 6, 4]]).flops, 1440);
    // _FusedMatMul with bias: 480 + 24.
    assert.equal(kernelCost('_FusedMatMul', [[6, 10], [10, 4], [4]], [[6, 4]]).flops, 504);
  });

  it('elementwise: one FLOP per output element (two for SquaredDifference), inputs read at their own size', () => {
    const add = kernelCost('Add', [[2, 3, 4], [4]], [[2, 3, 4]]);
    assert.deepEqual([add.flops, add.bytes, add.category], [24, (24 + 4 + 24) * 4, 'elementwise']);
    assert.equal(kernelCost('Erf', [[2, 3, 4]], [[2, 3, 4]]).flops, 24);
    assert.equal(kernelCost('SquaredDifference', [[2, 3, 4], [2, 3, 1]], [[2, 3, 4]]).flops, 48);
    // AddN of 3 tensors: 2 adds per element.
    assert.equal(kernelCost('AddN', [[2, 3, 4], [2, 3, 4], [2, 3, 4]], [[2, 3, 4]]).flops, 48);
  });

  it('reductions count input elements; views cost nothing; unknown kernels count bytes only', () => {
    assert.equal(kernelCost('Mean', [[2, 3, 4]], [[2, 3, 1]]).flops, 24);
    assert.deepEqual(kernelCost('Reshape', [[2, 3, 4]], [[6, 4]]), { flops: 0, bytes: 0, intensity: 0, category: 'view' });
    const u = kernelCost('SomethingNew', [[5]], [[5]]);
    assert.deepEqual([u.flops, u.bytes, u.category], [0, 40, 'unknown']);
  });

  it('bytesPerElement scales bytes (float16 weights)', () => {
    assert.equal(kernelCost('MatMul', [[6, 10], [10, 4]], [[6, 4]], {}, { bytesPerElement: 2 }).bytes, 248);
  });
});

describe('cost model: fused blocks count the layers they replace', () => {
  // ConvNeXt: N=2, H=5, W=6 (P = 60 pixels), C = 8, D = 32, k = 7, layer scale.
  const convnextShapes = [[2, 5, 6, 8], [7, 7, 8, 1], [8], [8], [8], [8, 32], [32], [32, 8], [8], [8]];
  // per pixel: dw 2*49*8 = 784, dw bias 8, LayerNorm 7*8 + 2 (eps, rsqrt) = 58, expand 2*8*32 = 512, b1 32,
  // GELU 5*32 = 160, project 2*32*8 = 512, b2 8, layer scale 8, residual 8 -> 2090; * 60 = 125400.
  it('FusedConvNeXtBlock', () => {
    const c = kernelCost('FusedConvNeXtBlock', convnextShapes, [[2, 5, 6, 8]]);
    assert.equal(c.flops, 125400);
    // bytes: x 480 + dw 392 + 3 * 8 + w1 256 + b1 32 + w2 256 + b2 8 + ls 8 + y 480 = 1936 elements.
    assert.equal(c.bytes, 1936 * 4);
    assert.equal(c.category, 'fused-block');
    assert.equal(c.spec?.kind, 'convnext');
    // without layer scale: 2082 * 60.
    assert.equal(kernelCost('FusedConvNeXtBlock', convnextShapes.slice(0, 9), [[2, 5, 6, 8]]).flops, 124920);
    // a tanh GELU: 3 more FLOPs per hidden element: + 3 * 32 * 60.
    assert.equal(kernelCost('FusedConvNeXtBlock', convnextShapes, [[2, 5, 6, 8]], { activation: 'gelu_tanh' }).flops,
      125400 + 3 * 32 * 60);
  });

  it('FusedLayerNorm: 7 FLOPs per element and 2 per row, as the block cost counts its LayerNorm', () => {
    const c = kernelCost('FusedLayerNorm', [[2, 3, 8], [8], [8]], [[2, 3, 8]]);
    assert.equal(c.flops, 7 * 48 + 2 * 6);
    assert.equal(c.bytes, (48 + 8 + 8 + 48) * 4);
    assert.equal(c.category, 'normalization');
  });

  it('FusedClassifierHead: the FLOPs of the Mean, FusedLayerNorm, MatMul and BiasAdd it replaces', () => {
    // x [2, 3, 5, 8], weight [8, 10]
    const c = kernelCost('FusedClassifierHead', [[2, 3, 5, 8], [8], [8], [8, 10], [10]], [[2, 10]]);
    const parts = [kernelCost('Mean', [[2, 3, 5, 8], [2]], [[2, 8]]), kernelCost('FusedLayerNorm', [[2, 8], [8], [8]], [[2, 8]]),
      kernelCost('MatMul', [[2, 8], [8, 10]], [[2, 10]]), kernelCost('BiasAdd', [[2, 10], [10]], [[2, 10]])];
    assert.equal(c.flops, parts.reduce((s, p) => s + p.flops, 0));
    assert.equal(c.flops, 240 + 7 * 16 + 2 * 2 + 2 * 20 * 8 + 20);
    assert.equal(c.bytes, (240 + 8 + 8 + 80 + 10 + 20) * 4);
  });

  // ConvFirst: N=1, 4x4 (P = 16), C = 16, G = 8, D = 64, k = 3.
  const convfirstShapes = [[1, 4, 4, 16], [3, 3, 8, 16], [16], [16, 64], [64], [64, 16], [16]];
  // per pixel: grouped conv 2*9*8*16 = 2304, bias 16, expand 2*16*64 = 2048, b1 64, SiLU 2*64 = 128,
  // project 2048, b2 16, residual 16 -> 6640; * 16 = 106240.
  it('FusedConvFirstBlock', () => {
    const c = kernelCost('FusedConvFirstBlock', convfirstShapes, [[1, 4, 4, 16]]);
    assert.equal(c.flops, 106240);
    // bytes: x 256 + filter 1152 + 16 + 1024 + 64 + 1024 + 16 + y 256 = 3808 elements.
    assert.equal(c.bytes, 3808 * 4);
    assert.equal(c.spec?.groupWidth, 8);
    assert.equal(kernelCost('FusedConvFirstBlock', convfirstShapes, [[1, 4, 4, 16]], { residual: false }).flops, 105984);
  });

  it('blockFlops agrees with the activation table', () => {
    assert.equal(ACTIVATION_FLOPS.gelu, 5);
    const spec = kernelCost('FusedConvFirstBlock', convfirstShapes, [[1, 4, 4, 16]]).spec!;
    assert.equal(blockFlops({ ...spec, activation: 'relu' }, 16), 106240 - 64 * 16);
  });

  it('the ops dispatch the input order the cost model reads (traced on cpu)', async () => {
    await useBackend('cpu');
    const r = (shape: number[]) => tf.randomNormal(shape);
    const before = tf.memory().numTensors;
    const w = {
      dwFilter: r([7, 7, 8, 1]), dwBias: r([8]), lnGamma: r([8]), lnBeta: r([8]), w1: r([8, 32]), b1: r([32]),
      w2: r([32, 8]), b2: r([8]), layerScale: r([8]),
    };
    const x = r([2, 5, 6, 8]);
    const cn = await traceKernels(() => convnextBlock(x, w));
    assert.equal(cn.kernels.length, 1);
    assert.equal(cn.kernels[0].name, 'FusedConvNeXtBlock');
    assert.ok(cn.nestedKernels > 0, 'the reference composition runs inside the block kernel');
    assert.equal(recordCost(cn.kernels[0]).flops, 125400);

    const f = { filter: r([3, 3, 8, 16]), bias: r([16]), w1: r([16, 64]), b1: r([64]), w2: r([64, 16]), b2: r([16]) };
    const x2 = r([1, 4, 4, 16]);
    const cf = await traceKernels(() => convfirstBlock(x2, f));
    assert.equal(cf.kernels.length, 1);
    assert.equal(recordCost(cf.kernels[0]).flops, 106240);

    // tf.fused.conv2d runs FusedConv2D inside a customGrad scope: costed as the kernel, named after it.
    const x3 = r([1, 8, 8, 3]) as tf.Tensor4D;
    const w3 = r([4, 4, 3, 16]) as tf.Tensor4D;
    const b3 = r([16]);
    const fc = await traceKernels(() => tf.fused.conv2d({ x: x3, filter: w3, bias: b3, strides: 4, pad: 'valid' }));
    assert.equal(fc.kernels.length, 1);
    const cost = recordCost(fc.kernels[0]);
    assert.deepEqual([cost.kernel, cost.flops], ['FusedConv2D', 6208]);

    // The patch conv with the stem's post-norm: the conv (6144), the bias (64), 7 ops per output element (448) and 2 per
    // output pixel (8).
    const [g3, be3] = [r([16]), r([16])];
    const pc = await traceKernels(() => patchConv(x3, w3, b3, { postNorm: { gamma: g3, beta: be3 } }));
    assert.equal(pc.kernels.length, 1);
    assert.deepEqual([recordCost(pc.kernels[0]).kernel, recordCost(pc.kernels[0]).flops], ['FusedPatchConv', 6208 + 448 + 8]);
    // With a pre-norm too: 7 ops per input element (8 * 8 * 3 = 192) and 2 per input pixel (64) more.
    const [g4, be4] = [r([3]), r([3])];
    const both = await traceKernels(() => patchConv(x3, w3, b3, { preNorm: { gamma: g4, beta: be4 }, postNorm: { gamma: g3, beta: be3 } }));
    assert.equal(recordCost(both.kernels[0]).flops, 6208 + 448 + 8 + 7 * 192 + 2 * 64);
    tf.dispose([g3, be3, g4, be4]);
    tf.dispose([x, x2, x3, w3, b3, ...Object.values(w), ...Object.values(f)]);
    assert.equal(tf.memory().numTensors, before);
  });

  it('counts a patch conv\'s one LayerNorm where the call put it, also when Cin = Cout', async () => {
    await useBackend('cpu');
    const r = (shape: number[]) => tf.randomNormal(shape);
    const before = tf.memory().numTensors;
    // x [1, 8, 8, 16], 2x2 stride 2 to 16 channels: out [1, 4, 4, 16] = 256 elements of 2*2*16 = 64 MACs: 32768, bias 256.
    const [x, w, b, g, be] = [r([1, 8, 8, 16]) as tf.Tensor4D, r([2, 2, 16, 16]) as tf.Tensor4D, r([16]), r([16]), r([16])];
    const traced = async (fn: () => tf.Tensor) => recordCost((await traceKernels(fn)).kernels[0]).flops;
    // post-norm over the output: 7 * 256 + 2 * 16 rows; pre-norm over x: 7 * 1024 + 2 * 64 rows.
    assert.equal(await traced(() => patchConv(x, w, b, { postNorm: { gamma: g, beta: be } })), 32768 + 256 + 7 * 256 + 2 * 16);
    assert.equal(await traced(() => patchConv(x, w, b, { preNorm: { gamma: g, beta: be } })), 32768 + 256 + 7 * 1024 + 2 * 64);
    tf.dispose([x, w, b, g, be]);
    assert.equal(tf.memory().numTensors, before);
  });

  it('counts what each call was run with: block activation and residual, pool window, fused activation', async () => {
    await useBackend('cpu');
    const r = (shape: number[]) => tf.randomNormal(shape);
    const before = tf.memory().numTensors;
    const f = { filter: r([3, 3, 8, 16]), bias: r([16]), w1: r([16, 64]), b1: r([64]), w2: r([64, 16]), b2: r([16]) };
    const x = r([1, 4, 4, 16]);
    // 16 pixels x 64 hidden activations; SiLU (2 per element) is the default; no residual: 256 fewer (16 x 16).
    const hidden = 16 * 64;
    const traced = async (fn: () => tf.Tensor) => recordCost((await traceKernels(fn)).kernels[0]).flops;
    assert.equal(await traced(() => convfirstBlock(x, f)), 106240);
    assert.equal(await traced(() => convfirstBlock(x, f, { activation: 'gelu' })), 106240 + (5 - 2) * hidden);
    assert.equal(await traced(() => convfirstBlock(x, f, { activation: 'relu' })), 106240 - hidden);
    assert.equal(await traced(() => convfirstBlock(x, f, { residual: false })), 106240 - 256);
    // A caller's attrsFor still wins over the recorded call.
    const k = (await traceKernels(() => convfirstBlock(x, f, { activation: 'gelu' }))).kernels[0];
    assert.equal(recordCost(k, { activation: 'silu' }).flops, 106240);
    // A 3x3 stride-2 'same' pool: 9 per output (the shape ratio would have said a 2x2 window).
    const img = r([1, 9, 9, 4]) as tf.Tensor4D;
    assert.equal(await traced(() => tf.avgPool(img, 3, 2, 'same')), 5 * 5 * 4 * 9);
    assert.equal(await traced(() => tf.maxPool(img, [3, 1], 1, 'valid')), 7 * 9 * 4 * 3);
    // A fused conv's ReLU: one op per output besides the bias.
    const w3 = r([1, 1, 4, 8]) as tf.Tensor4D;
    const b3 = r([8]);
    const conv = 2 * 81 * 8 * 4;
    assert.equal(await traced(() => tf.fused.conv2d({ x: img, filter: w3, bias: b3, strides: 1, pad: 'valid' })), conv + 81 * 8);
    assert.equal(await traced(() => tf.fused.conv2d({ x: img, filter: w3, bias: b3, strides: 1, pad: 'valid', activation: 'relu' })),
      conv + 2 * 81 * 8);
    // A patch conv keeping its channels (Cin = Cout = 8, k 2) with a post-norm only: the shapes cannot tell it from a
    // pre-norm, the call's attrs can. 4x4x8 = 128 outputs: conv 2 x 128 x 2 x 2 x 8 = 8192, bias 128, LayerNorm over
    // the output 7 x 128 + 2 x 16 pixels = 928 (over x it would be 7 x 512 + 2 x 64 = 3712).
    const px = r([1, 8, 8, 8]) as tf.Tensor4D;
    const pw = r([2, 2, 8, 8]) as tf.Tensor4D;
    const pb = r([8]);
    const [g, b] = [r([8]), r([8])];
    assert.equal(await traced(() => patchConv(px, pw, pb, { postNorm: { gamma: g, beta: b } })), 8192 + 128 + 928);
    assert.equal(await traced(() => patchConv(px, pw, pb, { preNorm: { gamma: g, beta: b } })), 8192 + 128 + 3712);
    tf.dispose([x, img, w3, b3, px, pw, pb, g, b, ...Object.values(f)]);
    assert.equal(tf.memory().numTensors, before);
  });
});
