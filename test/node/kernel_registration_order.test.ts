/**
 * The converter subpath's graph ops can run the fused ops before the package root is imported (a page that loads
 * tfjs-block-fusion/converter first, converts and verifies, and imports 'tfjs-block-fusion' later): the kernels the
 * ops register on first use are the reference ones, and the root's fused kernels must replace them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { fuseBlocks, GraphBuilder, verifyConversion } from '../../src/converter/index.js';
import { useBackend, webgpuUnavailableReason } from '../support/node_backends.js';

/** The kernels one LayerNorm call dispatches through the engine (the reference composes stock ones). */
async function layerNormKernels(layerNorm: (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor): Promise<string[]> {
  const [x, gamma, beta] = [tf.randomNormal([1, 4, 4, 8]), tf.ones([8]), tf.zeros([8])];
  try {
    const info = await tf.profile(async () => { const y = layerNorm(x, gamma, beta); await y.data(); y.dispose(); });
    return info.kernelNames;
  } finally {
    tf.dispose([x, gamma, beta]);
  }
}

describe('fused kernels registered after an op ran through the converter subpath',
  { skip: webgpuUnavailableReason() ?? false }, () => {
    it('the root import replaces the reference kernels on webgpu', async () => {
      await useBackend('webgpu');
      const b = new GraphBuilder();
      const x = b.input('x', [1, 4, 4, 8]);
      b.output(b.layerNorm(x, b.weight('gamma', [8], new Float32Array(8).fill(1)), b.weight('beta', [8], new Float32Array(8)), 1e-6));
      const fused = fuseBlocks(b.graph).graph;
      assert.deepEqual(fused.nodes.map((n) => n.op).filter((op) => op.startsWith('Fused')), ['FusedLayerNorm']);
      const verified = await verifyConversion(b.graph, fused, { seed: 5 });
      assert.ok(verified.maxAbsError < 1e-5, `verify: ${verified.maxAbsError}`);

      const { layerNorm } = await import('../../src/index.js');
      const names = await layerNormKernels(layerNorm);
      assert.deepEqual(names, ['FusedLayerNorm'], `one fused kernel expected, ran ${names.join(', ')} (the reference)`);
    });
  });
