/**
 * Test tensors of the WebGPU block and patch conv benchmarks, and their check against stock. Each helper leaves
 * only the tensors it returns: the benchmarks run them for every shape and batch, so a stray intermediate
 * accumulates over the run (tf.memory().numTensors must stay flat).
 */
import * as tf from '@tensorflow/tfjs-core';

export type BlockOp = 'convnext' | 'convfirst';

const randomNormal = (shape: number[], std: number, seed: number) => tf.randomNormal(shape, 0, std, 'float32', seed);

/** Random weights of a ConvNeXt (7x7 depthwise, LayerNorm, layer scale) or ConvFirst (3x3, groups of 8) block. */
export function blockWeights(op: BlockOp, c: number, d: number): Record<string, tf.Tensor> {
  const k = op === 'convnext' ? 7 : 3;
  const g = op === 'convnext' ? 1 : 8;
  const rn = (shape: number[], std: number) => randomNormal(shape, std, 7);
  const mlp = { w1: rn([c, d], 1 / Math.sqrt(c)), b1: rn([d], 0.1), w2: rn([d, c], 1 / Math.sqrt(d)), b2: rn([c], 0.1) };
  if (op === 'convnext') {
    return { dwFilter: rn([k, k, c, 1], 1 / k), dwBias: rn([c], 0.1), lnGamma: tf.tidy(() => tf.add(1, rn([c], 0.1))),
      lnBeta: rn([c], 0.1), ...mlp, layerScale: tf.fill([c], 0.5) };
  }
  return { filter: rn([k, k, g, c], 1 / (k * Math.sqrt(g))), bias: rn([c], 0.1), ...mlp };
}

/** Random weights of a k x k stride-k patch conv with its LayerNorm's gamma and beta (over the input channels). */
export function patchConvWeights(k: number, cin: number, cout: number): Record<string, tf.Tensor> {
  return { filter: randomNormal([k, k, cin, cout], 1 / Math.sqrt(k * k * cin), 1), bias: randomNormal([cout], 0.1, 2),
    gamma: tf.tidy(() => tf.add(1, randomNormal([cin], 0.1, 3))), beta: randomNormal([cin], 0.1, 4) };
}

/** max |want() - got()|, every tensor of the comparison disposed. */
export async function maxAbsDiffFrom(want: () => tf.Tensor, got: () => tf.Tensor): Promise<number> {
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(want(), got()))));
  const v = (await diff.data())[0];
  diff.dispose();
  return v;
}
