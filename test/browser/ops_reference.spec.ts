import '../../src/index.js';
import { blockMatrix, caseName, nanCases, runBlockCase } from '../support/block_cases.js';
import { GPU_BACKENDS, useBackend } from '../support/browser_backends.js';
import { freshSeed, Rng } from '../support/random.js';

const seed = freshSeed();

for (const backend of GPU_BACKENDS) {
  describe(`block ops on ${backend} vs float64 (seed ${seed})`, () => {
    beforeAll(async () => { await useBackend(backend); });
    const rng = new Rng(seed);
    for (const t of blockMatrix(rng)) {
      it(caseName(t), async () => {
        await useBackend(backend);
        await runBlockCase(t, rng.int(1, 2 ** 30));
      });
    }
    for (const t of nanCases()) {
      it(`${caseName(t)}: a NaN input stays NaN where it reaches`, async () => {
        await useBackend(backend);
        await runBlockCase(t, rng.int(1, 2 ** 30), true);
      });
    }
  });
}
