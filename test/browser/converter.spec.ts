// The converter in the browser: every shared fixture is fetched (karma serves ../shared/fixtures under
// /fixtures/), converted by the library in the page, loaded with tf.loadGraphModel (in-memory IO) and run
// on webgl and webgpu, compared with the exporting framework's output.
import '../../src/index.js';
import { GPU_BACKENDS, useBackend } from '../support/browser_backends.js';
import * as tf from '@tensorflow/tfjs-core';
import { convertModel } from '../../src/converter/convert.js';
import {
  type FixtureCase, floats, listFixtures, loadViaHttp, type ReadBytes, readSource, relL2, runFixture, TOLERANCE,
} from '../support/converter_fixtures.js';

const read: ReadBytes = async (path) => {
  const r = await fetch(`/fixtures/${path}`);
  if (!r.ok) throw new Error(`fixture ${path}: HTTP ${r.status} (is karma serving ../shared/fixtures?)`);
  return new Uint8Array(await r.arrayBuffer());
};

// Fixture names are only known after fetching the manifest; jasmine needs the specs up front.
const NAMES = [
  'torchvision_convnext_tiny16_op17', 'torchvision_convnext_tiny16_op18_dynamo', 'torchvision_convnext_tiny16_op20_dynamo',
  'timm_convnext_tiny16_convmlp_op17', 'hf_convnext_tiny16_op17', 'convfirst_c32_gw8_op17', 'torchvision_mobilenet_v2_w025_op17',
  'keras_convnext_tiny16_b1', 'keras_convnext_tiny16_dyn', 'keras_convnext_tiny16_b1_f16',
];

let fixtures: FixtureCase[] = [];

for (const backend of GPU_BACKENDS) {
  describe(`converter fixtures on ${backend}`, () => {
    beforeAll(async () => {
      fixtures = await listFixtures(read);
      expect(fixtures.map((f) => f.name).sort()).toEqual([...NAMES].sort());
    });
    for (const name of NAMES) {
      it(name, async () => {
        await useBackend(backend);
        const c = fixtures.find((f) => f.name === name) as FixtureCase;
        const r = await runFixture(read, c);
        const tol = c.float16 ? TOLERANCE.float16 : TOLERANCE.float32;
        console.log(`${backend} ${name}: rel L2 ${r.relL2.toExponential(2)}, fused ${r.fusedNodes}/${r.expectedBlocks}`);
        expect(r.relL2).toBeLessThanOrEqual(tol);
        expect(r.fusedNodes).toBe(r.expectedBlocks);
        expect(r.residualAdds).toBeGreaterThan(0);
      });
    }
    it('loads converted files with tf.loadGraphModel(url) as a web app does', async () => {
      await useBackend(backend);
      const c = fixtures.find((f) => f.name === 'hf_convnext_tiny16_op17') as FixtureCase;
      const { model, requested } = await loadViaHttp(convertModel(await readSource(read, c)).files);
      const x = tf.tensor(floats(await read(c.input)), c.inputShape);
      const y = model.predict(x) as tf.Tensor;
      const err = relL2(await y.data(), floats(await read(c.output)));
      tf.dispose([x, y]);
      model.dispose();
      expect(err).toBeLessThanOrEqual(TOLERANCE.float32);
      expect(requested.length).toBe(2);
    });
  });
}
