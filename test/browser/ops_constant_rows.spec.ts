/**
 * Rows of equal values through every LayerNorm of the ops (layerNorm, classifierHead, patchConv pre/post, convnextBlock)
 * on webgl and webgpu in Chromium: the output there is beta exactly, as in float64.
 */
import '../../src/index.js';
import { checkConstantRowsClassifierHead, checkConstantRowsConvNeXt, checkConstantRowsLayerNorm, checkConstantRowsPatchConv,
  CONSTANT_ROW_CHANNELS, CONSTANT_ROW_EPSILONS } from '../support/constant_rows.js';
import { GPU_BACKENDS, useBackend } from '../support/browser_backends.js';
import { freshSeed } from '../support/random.js';

const seed = freshSeed();
const CHECKS = { layerNorm: checkConstantRowsLayerNorm, classifierHead: checkConstantRowsClassifierHead,
  patchConv: checkConstantRowsPatchConv, convnextBlock: checkConstantRowsConvNeXt };

for (const backend of GPU_BACKENDS) {
  describe(`rows of equal values normalize to beta on ${backend} (seed ${seed})`, () => {
    for (const [name, check] of Object.entries(CHECKS)) {
      it(`${name}, C ${CONSTANT_ROW_CHANNELS.join(' / ')}, epsilon ${CONSTANT_ROW_EPSILONS.join(' / ')}`, async () => {
        await useBackend(backend);
        for (const c of CONSTANT_ROW_CHANNELS) for (const epsilon of CONSTANT_ROW_EPSILONS) await check(c, epsilon, seed);
      });
    }
  });
}
