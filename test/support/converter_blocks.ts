/** Small ConvNeXt / ConvFirst graphs built with the converter's GraphBuilder, shared by converter tests. */
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { toModelArtifacts, type WriteOptions, writeGraphModel } from '../../src/converter/graphmodel_writer.js';
import type { Graph } from '../../src/converter/ir.js';
import { GraphBuilder } from '../../src/converter/ir_builder.js';
import type { Activation } from '../../src/spec/activations.js';
import type { ConvFirstWeights64, ConvNeXtWeights64 } from './reference64.js';
import type { Rng } from './random.js';

/** Writes `g` as a GraphModel, loads it from memory and runs it on `x`: the path an app takes. */
export async function runGraph(g: Graph, x: tf.Tensor, options: WriteOptions = {}): Promise<Float32Array> {
  const model = await loadGraphModel(tf.io.fromMemory(toModelArtifacts(writeGraphModel(g, options))));
  const y = model.execute(x) as tf.Tensor;
  const out = Float32Array.from(await y.data());
  y.dispose();
  model.dispose();
  return out;
}

export function convnextWeights(rng: Rng, c: number, d: number, k: number, layerScale = true): ConvNeXtWeights64 {
  return {
    dwFilter: rng.normals(k * k * c, 1 / k), dwBias: rng.normals(c, 0.1),
    lnGamma: rng.uniforms(c, 0.5, 1.5), lnBeta: rng.normals(c, 0.1),
    w1: rng.normals(c * d, 1 / Math.sqrt(c)), b1: rng.normals(d, 0.1),
    w2: rng.normals(d * c, 1 / Math.sqrt(d)), b2: rng.normals(c, 0.1),
    ...(layerScale ? { layerScale: rng.uniforms(c, 0.5, 1) } : {}),
  };
}

export function convfirstWeights(rng: Rng, c: number, d: number, k: number, g: number): ConvFirstWeights64 {
  return {
    filter: rng.normals(k * k * g * c, 1 / Math.sqrt(k * k * g)), bias: rng.normals(c, 0.1),
    w1: rng.normals(c * d, 1 / Math.sqrt(c)), b1: rng.normals(d, 0.1),
    w2: rng.normals(d * c, 1 / Math.sqrt(d)), b2: rng.normals(c, 0.1),
  };
}

/** Unfused ConvNeXt block in stock ops (the builder's canonical composites). */
export function addConvNeXtBlock(b: GraphBuilder, x: string, wt: ConvNeXtWeights64, c: number, d: number, k: number,
  eps: number, act: Activation = 'gelu'): string {
  const dw = b.depthwiseConv2d(x, b.weight('dw', [k, k, c, 1], wt.dwFilter), { bias: b.weight('dwb', [c], wt.dwBias) });
  const ln = b.layerNorm(dw, b.weight('gamma', [c], wt.lnGamma), b.weight('beta', [c], wt.lnBeta), eps);
  const h = b.activation(b.biasAdd(b.matMul(ln, b.weight('w1', [c, d], wt.w1), 4), b.weight('b1', [d], wt.b1)), act);
  let y = b.biasAdd(b.matMul(h, b.weight('w2', [d, c], wt.w2), 4), b.weight('b2', [c], wt.b2));
  if (wt.layerScale) y = b.mul(y, b.weight('ls', [c], wt.layerScale));
  return b.add(x, y);
}

export function addConvFirstBlock(b: GraphBuilder, x: string, wt: ConvFirstWeights64, c: number, d: number, k: number,
  g: number, act: Activation = 'silu'): string {
  const conv = b.groupedConv2d(x, wt.filter, [k, k, g, c], { bias: b.weight('bias', [c], wt.bias) });
  const w1 = b.weight('w1', [1, 1, c, d], wt.w1);
  const h = b.activation(b.conv2d(conv, w1, { bias: b.weight('b1', [d], wt.b1) }), act);
  const y = b.conv2d(h, b.weight('w2', [1, 1, d, c], wt.w2), { bias: b.weight('b2', [c], wt.b2) });
  return b.add(x, y);
}
