/**
 * The WebGPU weight cache lives in module memory, outside any backend: removing the backend (tf.removeBackend, e.g.
 * an app re-creating its device after a loss) must take that backend's entries with it, and a new backend under the
 * same name must fold its own weights and give right results.
 */
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { webgpuWeightCacheStats } from '../../src/kernels/webgpu/index.js';
import { type BlockCase, runBlockCase } from '../support/block_cases.js';
import { useBackend, webgpuUnavailableReason } from '../support/node_backends.js';
import { freshSeed } from '../support/random.js';

const seed = freshSeed();
const block: BlockCase = { kind: 'convnext', n: 2, h: 5, w: 7, c: 12, d: 48, k: 3, act: 'gelu', layerScale: true };

describe(`webgpu weight cache across tf.removeBackend (seed ${seed})`,
  { skip: webgpuUnavailableReason() ?? false }, () => {
    it("drops the removed backend's entries; a new backend folds its own", async () => {
      await useBackend('webgpu');
      const factory = tf.findBackendFactory('webgpu');
      if (factory == null) throw new Error('no webgpu backend factory registered');
      const entriesBefore = webgpuWeightCacheStats().entries;
      const foldsBefore = webgpuWeightCacheStats().folds;
      // Weights still alive when the backend goes: only the backend's removal can free their entry.
      const weights = await cachedOnce();
      if (webgpuWeightCacheStats().entries !== entriesBefore + 1) {
        throw new Error(`expected one new cache entry, have ${webgpuWeightCacheStats().entries - entriesBefore}`);
      }
      tf.removeBackend('webgpu');
      if (webgpuWeightCacheStats().entries !== 0) {
        throw new Error(`${webgpuWeightCacheStats().entries} cache entries outlived tf.removeBackend`);
      }
      tf.registerBackend('webgpu', factory);
      await useBackend('webgpu');
      await runBlockCase(block, seed);
      if (webgpuWeightCacheStats().folds <= foldsBefore + 1) throw new Error('the new backend did not fold its weights');
      tf.dispose(weights);
    });
  });

/** Runs one fused block whose weights stay undisposed, so its cache entry stays until the backend goes. */
async function cachedOnce(): Promise<tf.Tensor[]> {
  const c = block.c, d = block.d, k = block.k;
  const r = (shape: number[]) => tf.randomNormal(shape, 0, 0.3, 'float32', seed);
  const w = { dwFilter: r([k, k, c, 1]), dwBias: r([c]), lnGamma: r([c]), lnBeta: r([c]), w1: r([c, d]), b1: r([d]),
    w2: r([d, c]), b2: r([c]), layerScale: r([c]) };
  const x = r([1, 4, 4, c]) as tf.Tensor4D;
  const { convnextBlock } = await import('../../src/index.js');
  const y = convnextBlock(x, w);
  await y.data();
  tf.dispose([x, y]);
  return Object.values(w);
}
