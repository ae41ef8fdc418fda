/**
 * Without the stock gradients (tfjs-core alone, no '@tensorflow/tfjs'): differentiating through an op must fail
 * with the message that says what to import, and leak nothing. Its own file: node's test runner gives each file a
 * process, and the other gradient tests register the stock gradients.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { classifierHead, convfirstBlock, convnextBlock, layerNorm, patchConv } from '../../src/index.js';
import { useBackend } from '../support/node_backends.js';

describe('gradients without the stock TF.js gradients', () => {
  before(async () => { await useBackend('cpu'); });

  it('the stock gradients are really absent in this process', () => {
    assert.equal(tf.getGradient('Sum'), undefined);
  });

  const c = 4;
  const d = 8;
  const ones = (...s: number[]) => tf.ones(s);
  const cases: Array<[string, (x: tf.Tensor4D) => tf.Tensor]> = [
    ['convnextBlock', (x) => convnextBlock(x, { dwFilter: ones(3, 3, c, 1), dwBias: ones(c), lnGamma: ones(c),
      lnBeta: ones(c), w1: ones(c, d), b1: ones(d), w2: ones(d, c), b2: ones(c) })],
    ['convfirstBlock', (x) => convfirstBlock(x, { filter: ones(3, 3, 2, c), bias: ones(c), w1: ones(c, d), b1: ones(d),
      w2: ones(d, c), b2: ones(c) })],
    ['layerNorm', (x) => layerNorm(x, ones(c), ones(c))],
    ['patchConv', (x) => patchConv(x, ones(2, 2, c, 6))],
    ['classifierHead', (x) => classifierHead(x, ones(c), ones(c), ones(c, 5), ones(5))],
  ];
  for (const [name, op] of cases) {
    it(`${name}: tf.grad throws what to import and leaks nothing, every time`, () => {
      const x = tf.randomNormal([1, 4, 4, c]) as tf.Tensor4D;
      const before = tf.memory().numTensors;
      for (let attempt = 0; attempt < 2; attempt++) {
        assert.throws(() => tf.grad((v: tf.Tensor) => tf.tidy(() => tf.sum(op(v as tf.Tensor4D))))(x),
          new RegExp(`gradients of ${name} are computed through stock TF\\.js ops.*import '@tensorflow/tfjs'`));
        assert.equal(tf.memory().numTensors, before, `attempt ${attempt + 1}: no tensors leaked`);
      }
      x.dispose();
    });
  }

  it('the forward ops run as usual outside tf.grad', async () => {
    const [x, gamma, beta] = [tf.ones([1, 4, 4, c]), ones(c), tf.zeros([c])];
    const before = tf.memory().numTensors;
    const y = layerNorm(x, gamma, beta);
    assert.deepEqual(Array.from(await y.data()), new Array(16 * c).fill(0));
    y.dispose();
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, gamma, beta]);
  });
});
