// Rows of equal values through every LayerNorm of the ops (layerNorm, classifierHead, patchConv pre/post, convnextBlock)
// on cpu, wasm and webgpu (Dawn on SwiftShader): the output there is beta exactly, as in float64.
import { describe, it } from 'node:test';
import { lastPatchConvDecision, setPatchConvOverride } from '../../src/kernels/webgpu/index.js';
import { checkConstantRowsClassifierHead, checkConstantRowsConvNeXt, checkConstantRowsLayerNorm, checkConstantRowsPatchConv,
  checkConstantRowsPostNorm, checkConstantRowsPreNorm, CONSTANT_ROW_CHANNELS, CONSTANT_ROW_EPSILONS } from '../support/constant_rows.js';
import { useBackend, webgpuUnavailableReason } from '../support/node_backends.js';
import { freshSeed } from '../support/random.js';

const seed = freshSeed();
const CHECKS = { layerNorm: checkConstantRowsLayerNorm, classifierHead: checkConstantRowsClassifierHead,
  patchConv: checkConstantRowsPatchConv, convnextBlock: checkConstantRowsConvNeXt };

for (const backend of ['cpu', 'wasm', 'webgpu'] as const) {
  const skip = backend === 'webgpu' ? webgpuUnavailableReason() ?? false : false;
  describe(`rows of equal values normalize to beta on ${backend} (seed ${seed})`, { skip }, () => {
    for (const [name, check] of Object.entries(CHECKS)) {
      it(`${name}, C ${CONSTANT_ROW_CHANNELS.join(' / ')}, epsilon ${CONSTANT_ROW_EPSILONS.join(' / ')}`, async () => {
        await useBackend(backend);
        for (const c of CONSTANT_ROW_CHANNELS) for (const epsilon of CONSTANT_ROW_EPSILONS) await check(c, epsilon, seed);
      });
    }
    if (backend === 'webgpu') {
      it('patchConv postNorm in the GEMM epilogue (forced GEMM path; tiles of Cout 32, 64, 96)', async () => {
        await useBackend(backend);
        setPatchConvOverride({ gemm: true, gemmSplits: 1 });
        try {
          for (const cout of [32, 64, 96]) {
            for (const epsilon of CONSTANT_ROW_EPSILONS) {
              await checkConstantRowsPostNorm(cout, epsilon, seed);
              const d = lastPatchConvDecision();
              if (!(d?.ok && d.plan.gemm?.postNormFused)) throw new Error(`Cout ${cout}: not the GEMM epilogue: ${JSON.stringify(d)}`);
            }
          }
        } finally {
          setPatchConvOverride(null);
        }
      });
      it('patchConv preNorm folded into the GEMM (forced: 2 and 4 splits per patch position)', async () => {
        await useBackend(backend);
        try {
          for (const [cin, splits] of [[32, 8], [96, 16]]) {
            setPatchConvOverride({ gemm: true, gemmSplits: splits, gemmFoldedNorm: true });
            for (const epsilon of CONSTANT_ROW_EPSILONS) {
              await checkConstantRowsPreNorm(cin, 32, epsilon, seed);
              const d = lastPatchConvDecision();
              if (!(d?.ok && d.plan.gemm?.foldedNorm)) throw new Error(`Cin ${cin}: not the folded GEMM: ${JSON.stringify(d)}`);
            }
          }
        } finally {
          setPatchConvOverride(null);
        }
      });
    }
  });
}
