/**
 * Tensors made on one backend and passed to an op after tf.setBackend switched to another: stock ops move them (the
 * engine excuses the moves from its IS_TEST leak check); the package's ops must run, match float64 and pass the check.
 */
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { type BlockCase, caseName, runBlockCase } from '../support/block_cases.js';
import { type HeadCase, runHeadCase } from '../support/classifier_head_cases.js';
import { runLayerNormCase } from '../support/layer_norm_cases.js';
import { type PatchConvCase, runPatchConvCase } from '../support/patch_conv_cases.js';
import { useBackend, webgpuUnavailableReason } from '../support/node_backends.js';
import { freshSeed } from '../support/random.js';

type Backend = Parameters<typeof useBackend>[0];

const seed = freshSeed();

/** Both backends set up (webgpu registers itself on first use), `from` active for the case's tensors. */
async function startOn(from: Backend, to: Backend): Promise<void> {
  await useBackend(to);
  await useBackend(from);
}

/** The case's tensors are made on `from`; its op calls run on `to`. */
function switchingTo(to: Backend) {
  return async () => { await tf.setBackend(to); };
}

// webgpu -> cpu is left out: reading webgpu data synchronously (the move) needs OffscreenCanvas, absent in node.
for (const [from, to] of [['wasm', 'cpu'], ['cpu', 'wasm'], ['cpu', 'webgpu']] as const) {
  const skip = to === 'webgpu' ? webgpuUnavailableReason() ?? false : false;
  describe(`ops on ${to} with inputs made on ${from} (IS_TEST, seed ${seed})`, { skip }, () => {
    const blocks: BlockCase[] = [
      { kind: 'convnext', n: 1, h: 5, w: 4, c: 8, d: 32, k: 3, act: 'gelu', layerScale: true },
      { kind: 'convfirst', n: 2, h: 4, w: 3, c: 8, d: 16, k: 3, g: 4, act: 'relu', residual: true },
    ];
    for (const t of blocks) {
      it(caseName(t), async () => {
        await startOn(from, to);
        await runBlockCase(t, seed, false, switchingTo(to));
      });
    }
    it('layerNorm', async () => {
      await startOn(from, to);
      await runLayerNormCase([2, 3, 8], seed, 1e-6, switchingTo(to));
    });
    it('patchConv with pre-norm', async () => {
      await startOn(from, to);
      const c: PatchConvCase = { n: 1, h: 6, w: 4, cin: 4, cout: 6, k: 2, preNorm: true, bias: true };
      await runPatchConvCase(c, seed, 1e-6, switchingTo(to));
    });
    it('classifierHead', async () => {
      await startOn(from, to);
      const t: HeadCase = { n: 2, h: 3, w: 2, c: 8, k: 5 };
      await runHeadCase(t, seed, 1e-6, switchingTo(to));
    });
  });
}
