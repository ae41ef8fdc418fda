/**
 * WEBGPU_ENGINE_COMPILE_ONLY (tfjs's parallel-compile warm-up: run the model once with the flag set, await
 * checkCompileCompletionAsync, then run for real) as the first call of a weight set: the weight cache's fold
 * program is only compiled then, so the first executing call must still fold before the cached weights are used.
 */
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { type BlockCase, runBlockCase } from '../support/block_cases.js';
import { type PatchConvCase, runPatchConvCase } from '../support/patch_conv_cases.js';
import { useBackend, webgpuUnavailableReason } from '../support/node_backends.js';
import { freshSeed } from '../support/random.js';

async function compileOnlyPass(run: () => tf.Tensor): Promise<void> {
  tf.env().set('WEBGPU_ENGINE_COMPILE_ONLY', true);
  try {
    const y = run();
    await (tf.backend() as WebGPUBackend).checkCompileCompletionAsync();
    y.dispose();
  } finally {
    tf.env().set('WEBGPU_ENGINE_COMPILE_ONLY', false);
  }
}

const seed = freshSeed();

describe(`webgpu fused kernels after a compile-only warm-up (seed ${seed})`, { skip: webgpuUnavailableReason() ?? false },
  () => {
    const blocks: BlockCase[] = [
      { kind: 'convnext', n: 1, h: 5, w: 6, c: 8, d: 32, k: 3, act: 'gelu', layerScale: true },
      { kind: 'convfirst', n: 2, h: 4, w: 5, c: 12, d: 24, k: 3, g: 4, act: 'silu', residual: true },
    ];
    for (const t of blocks) {
      it(`${t.kind} block matches float64`, async () => {
        await useBackend('webgpu');
        await runBlockCase(t, seed, false, compileOnlyPass);
      });
    }
    it('patch conv with a pre-norm (folded weights) matches float64', async () => {
      await useBackend('webgpu');
      const c: PatchConvCase = { n: 2, h: 8, w: 6, cin: 8, cout: 12, k: 2, preNorm: true, bias: true };
      await runPatchConvCase(c, seed, 1e-6, compileOnlyPass);
    });
  });
