/**
 * The two residual blocks: seeded weights drawn once per block, then emitted either as one fused node
 * (FusedConvNeXtBlock / FusedConvFirstBlock, inputs in the op's order) or as stock ops, through the
 * converter's GraphBuilder composites (the same forms its ONNX lowering emits and its fusion passes match). Both forms read the same weight arrays, so a fused model and an
 * unfused one built with the same seed compute the same function.
 */
import type { GraphBuilder } from '../src/converter/ir_builder.js';
import type { WeightInit } from './init.js';
import { type BlockDesign, MACRO } from './variants.js';

export interface ConvNeXtBlockWeights {
  /** [k, k, C, 1] */
  dwFilter: Float32Array;
  dwBias: Float32Array;
  lnGamma: Float32Array;
  lnBeta: Float32Array;
  /** [C, D] */
  w1: Float32Array;
  b1: Float32Array;
  /** [D, C] */
  w2: Float32Array;
  b2: Float32Array;
  layerScale?: Float32Array;
}

export interface ConvFirstBlockWeights {
  /** [k, k, G, C]: G input channels per group, BatchNorm folded in. */
  filter: Float32Array;
  bias: Float32Array;
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
}

export function initConvNeXtBlock(init: WeightInit, c: number, d: BlockDesign): ConvNeXtBlockWeights {
  const k = d.kernel;
  const hidden = d.expansion * c;
  return {
    dwFilter: init.weight(k * k * c, k * k),
    dwBias: init.bias(c),
    lnGamma: init.normScale(c),
    lnBeta: init.normShift(c),
    w1: init.weight(c * hidden, c),
    b1: init.bias(hidden),
    w2: init.weight(hidden * c, hidden),
    b2: init.bias(c),
    ...(d.layerScale ? { layerScale: init.layerScale(c) } : {}),
  };
}

/**
 * Folds inference BatchNorm y = gamma (z - mean) / sqrt(var + eps) + beta into the conv producing z:
 * output channel o of `weights` (o fastest-varying) is scaled, and the folded bias returned.
 */
function foldBatchNorm(init: WeightInit, weights: Float32Array, outChannels: number): Float32Array {
  const gamma = init.normScale(outChannels);
  const beta = init.normShift(outChannels);
  const mean = init.normShift(outChannels);
  const variance = init.uniform(outChannels, 0.5, 1.5);
  const bias = new Float32Array(outChannels);
  const scale = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    scale[o] = gamma[o] / Math.sqrt(variance[o] + 1e-5);
    bias[o] = beta[o] - mean[o] * scale[o];
  }
  for (let i = 0; i < weights.length; i++) weights[i] *= scale[i % outChannels];
  return bias;
}

/** A ConvFirst block as trained (conv + BN, 1x1 + BN, SiLU, 1x1 + BN), every BN folded for inference. */
export function initConvFirstBlock(init: WeightInit, c: number, d: BlockDesign): ConvFirstBlockWeights {
  const k = d.kernel;
  const gw = d.groupWidth;
  const hidden = d.expansion * c;
  const filter = init.weight(k * k * gw * c, k * k * gw);
  const bias = foldBatchNorm(init, filter, c);
  const w1 = init.weight(c * hidden, c);
  const b1 = foldBatchNorm(init, w1, hidden);
  const w2 = init.weight(hidden * c, hidden);
  const b2 = foldBatchNorm(init, w2, c);
  return { filter, bias, w1, b1, w2, b2 };
}

/** One residual block on x (NHWC, C channels); returns the block output's value name. */
export function emitConvNeXtBlock(b: GraphBuilder, x: string, c: number, w: ConvNeXtBlockWeights, d: BlockDesign,
  fused: boolean, scope: string): string {
  const k = d.kernel;
  const hidden = d.expansion * c;
  const dwFilter = b.weight(`${scope}.conv_dw.weight`, [k, k, c, 1], w.dwFilter);
  const dwBias = b.weight(`${scope}.conv_dw.bias`, [c], w.dwBias);
  const lnGamma = b.weight(`${scope}.norm.weight`, [c], w.lnGamma);
  const lnBeta = b.weight(`${scope}.norm.bias`, [c], w.lnBeta);
  const w1 = b.weight(`${scope}.mlp.fc1.weight`, [c, hidden], w.w1);
  const b1 = b.weight(`${scope}.mlp.fc1.bias`, [hidden], w.b1);
  const w2 = b.weight(`${scope}.mlp.fc2.weight`, [hidden, c], w.w2);
  const b2 = b.weight(`${scope}.mlp.fc2.bias`, [c], w.b2);
  const ls = w.layerScale ? b.weight(`${scope}.gamma`, [c], w.layerScale) : undefined;
  if (fused) {
    return b.fusedConvNeXtBlock(x, [dwFilter, dwBias, lnGamma, lnBeta, w1, b1, w2, b2, ...(ls ? [ls] : [])],
      // float32 epsilon: what the unfused graph's epsilon constant holds, so both forms compute the same.
      { epsilon: Math.fround(MACRO.epsilon), activation: d.activation }, scope);
  }
  const dw = b.depthwiseConv2d(x, dwFilter, { bias: dwBias });
  const normed = b.layerNorm(dw, lnGamma, lnBeta, MACRO.epsilon);
  const h = b.activation(b.biasAdd(b.matMul(normed, w1, 4), b1), d.activation);
  let branch = b.biasAdd(b.matMul(h, w2, 4), b2);
  if (ls) branch = b.mul(branch, ls);
  return b.add(x, branch);
}

export function emitConvFirstBlock(b: GraphBuilder, x: string, c: number, w: ConvFirstBlockWeights, d: BlockDesign,
  fused: boolean, scope: string): string {
  const k = d.kernel;
  const gw = d.groupWidth;
  const hidden = d.expansion * c;
  const bias = b.weight(`${scope}.conv.bias`, [c], w.bias);
  const b1 = b.weight(`${scope}.expand.bias`, [hidden], w.b1);
  const b2 = b.weight(`${scope}.project.bias`, [c], w.b2);
  if (fused) {
    const filter = b.weight(`${scope}.conv.weight`, [k, k, gw, c], w.filter);
    const w1 = b.weight(`${scope}.expand.weight`, [c, hidden], w.w1);
    const w2 = b.weight(`${scope}.project.weight`, [hidden, c], w.w2);
    return b.fusedConvFirstBlock(x, [filter, bias, w1, b1, w2, b2], { activation: d.activation, residual: true }, scope);
  }
  // The 1x1 layers are 1x1 Conv2Ds here, as an exported PyTorch ConvFirst block has them ([C, D] and
  // [1, 1, C, D] hold the same values in the same order).
  const conv = b.groupedConv2d(x, w.filter, [k, k, gw, c], { bias, weightName: `${scope}.conv.weight` });
  const w1 = b.weight(`${scope}.expand.weight`, [1, 1, c, hidden], w.w1);
  const h = b.activation(b.conv2d(conv, w1, { bias: b1 }), d.activation);
  const w2 = b.weight(`${scope}.project.weight`, [1, 1, hidden, c], w.w2);
  return b.add(x, b.conv2d(h, w2, { bias: b2 }));
}
