/**
 * tf.reshape views share their source's dataId: two patch convs whose bias-less filters are views of one tensor with
 * other shapes (k 2, Cout 8 and k 4, Cout 2: the same size) are two weight sets, each folded in its own layout.
 */
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { patchConv } from '../../src/index.js';
import { compare } from '../support/block_cases.js';
import { type PatchConvCase, patchConv64 } from '../support/patch_conv_cases.js';
import { useBackend, webgpuUnavailableReason } from '../support/node_backends.js';
import { freshSeed, Rng } from '../support/random.js';

const seed = freshSeed();

describe(`webgpu weight cache with reshaped views of one filter (seed ${seed})`,
  { skip: webgpuUnavailableReason() ?? false }, () => {
    it('each pre-norm patch conv matches float64', async () => {
      await useBackend('webgpu');
      const rng = new Rng(seed);
      const cin = 4;
      const views: PatchConvCase[] = [
        { n: 1, h: 8, w: 8, cin, cout: 8, k: 2, preNorm: true, bias: false },
        { n: 1, h: 8, w: 8, cin, cout: 2, k: 4, preNorm: true, bias: false },
      ];
      const xs = rng.normals(8 * 8 * cin);
      const fs = rng.normals(32 * cin, 0.3);
      const norm = { gamma: rng.uniforms(cin, 0.5, 1.5), beta: rng.normals(cin, 0.1), epsilon: 1e-6 };
      const x = tf.tensor4d(xs, [1, 8, 8, cin]);
      const filter = tf.tensor1d(fs);
      const [gamma, beta] = [tf.tensor1d(norm.gamma), tf.tensor1d(norm.beta)];
      try {
        for (const c of views) {
          const view = tf.reshape(filter, [c.k, c.k, cin, c.cout]) as tf.Tensor4D;
          const y = patchConv(x, view, null, { preNorm: { gamma, beta, epsilon: norm.epsilon } });
          compare(await y.data(), patchConv64(xs, c, fs, null, norm), c.k * c.k * cin * 8 + 2, `k ${c.k} Cout ${c.cout}`);
          tf.dispose([y, view]);
        }
      } finally {
        tf.dispose([x, filter, gamma, beta]);
      }
    });
  });
