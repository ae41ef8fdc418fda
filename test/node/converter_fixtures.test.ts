import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '../../src/index.js';
import { useBackend } from '../support/node_backends.js';
import { floats, listFixtures, loadViaHttp, type ReadBytes, readSource, relL2, runFixture, TOLERANCE } from '../support/converter_fixtures.js';
import { convertModel } from '../../src/converter/convert.js';

const root = join(new URL('../..', import.meta.url).pathname, '..', 'shared', 'fixtures');
const read: ReadBytes = async (p) => new Uint8Array(readFileSync(join(root, p)));
const fixtures = await listFixtures(read);

describe('converter on every shared fixture (cpu): converted output vs the exporting framework', () => {
  it('lists all ONNX and TF.js fixtures', () => {
    assert.equal(fixtures.filter((f) => f.format === 'onnx').length, 7);
    assert.equal(fixtures.filter((f) => f.format === 'tfjs').length, 3);
  });
  for (const c of fixtures) {
    it(`${c.name}: fused graph matches the oracle and has one fused node per block`, async () => {
      await useBackend('cpu');
      const r = await runFixture(read, c);
      const tol = c.float16 ? TOLERANCE.float16 : TOLERANCE.float32;
      console.log(`  ${c.name}: rel L2 ${r.relL2.toExponential(2)} (tol ${tol}), fused ${r.fusedNodes}, ` +
        `LayerNorms ${r.layerNormNodes}, patch convs ${r.patchConvNodes} (${r.patchConvPreNorms} with a pre-, ` +
        `${r.patchConvPostNorms} with a post-LayerNorm), ` +
        `residual adds ${r.residualAdds}, nodes ${r.result.report.nodes.before} -> ${r.result.report.nodes.after}`);
      assert.ok(r.relL2 <= tol, `relative L2 error ${r.relL2} > ${tol}`);
      assert.ok(r.residualAdds > 0, 'the fixture has residual blocks');
      if (c.declaredBlocks != null && !c.unfusable) assert.equal(r.residualAdds, c.declaredBlocks, 'residual adds = declared depths');
      assert.equal(r.fusedNodes, r.expectedBlocks, 'one fused node per block');
      assert.equal(r.result.report.blocks.total, r.fusedNodes);
      // Every LayerNorm outside a ConvNeXt block (stem, downsample layers, head) is one FusedLayerNorm node,
      // or folded into the patch conv it feeds (downsample layers) or follows (the stem) or into the classifier head.
      const standalone = r.layerNormComposites - r.result.report.blocks.convnext;
      assert.equal(r.layerNormNodes + r.patchConvPreNorms + r.patchConvPostNorms + r.classifierHeadNodes, standalone,
        'every standalone LayerNorm fused');
      // The head (pool + LayerNorm + dense) is one node in every ConvNeXt export but the dynamo ones, which
      // gather and transpose the pooled tensor before the LayerNorm (docs/classifier_head.md).
      const headExpected = r.result.report.blocks.convnext > 0 && !c.name.includes('dynamo') ? 1 : 0;
      assert.equal(r.classifierHeadNodes, headExpected, 'classifier heads');
      assert.equal(r.result.report.classifierHeads, r.classifierHeadNodes);
      assert.equal(r.result.report.layerNorms, r.layerNormNodes);
      assert.equal(r.result.report.patchConvs.total, r.patchConvNodes);
      assert.equal(r.result.report.patchConvs.preNorm, r.patchConvPreNorms);
      assert.equal(r.result.report.patchConvs.postNorm, r.patchConvPostNorms);
      if (r.result.report.blocks.convnext > 0) assert.ok(standalone > 0, 'a ConvNeXt has stem / downsample / head LayerNorms');
    });
  }
  it('the unfused conversion (--no-fuse) of a ConvNeXt and of the ConvFirst fixture also matches', async () => {
    await useBackend('cpu');
    for (const c of fixtures.filter((f) => f.name === 'hf_convnext_tiny16_op17' || f.name.startsWith('convfirst'))) {
      const r = await runFixture(read, c, { fuse: false });
      assert.equal(r.fusedNodes, 0);
      assert.equal(r.layerNormNodes, 0);
      assert.equal(r.patchConvNodes, 0);
      assert.equal(r.classifierHeadNodes, 0);
      assert.ok(r.relL2 <= TOLERANCE.float32, `${c.name} unfused rel L2 ${r.relL2}`);
    }
  });
  it('a web app loads the written files with tf.loadGraphModel(url) (HTTP IO handler, 3 shards)', async () => {
    await useBackend('cpu');
    const c = fixtures.find((f) => f.name === 'keras_convnext_tiny16_dyn')!;
    const files = convertModel(await readSource(read, c)).files;
    // re-shard small so the loader has to stitch several files in manifest order
    const { writeGraphModel } = await import('../../src/converter/graphmodel_writer.js');
    const { importTfjs } = await import('../../src/converter/tfjs_import.js');
    const { toModelArtifacts } = await import('../../src/converter/graphmodel_writer.js');
    const art = toModelArtifacts(files);
    const g = importTfjs({ format: 'graph-model', modelTopology: art.modelTopology as never, signature: art.signature as never,
      weightsManifest: files.modelJson.weightsManifest }, new Uint8Array(art.weightData as ArrayBuffer));
    const sharded = writeGraphModel(g, { shardBytes: 400_000 });
    assert.equal(sharded.shards.length, 3);
    const { model, requested } = await loadViaHttp(sharded);
    const x = tf.tensor(floats(await read(c.input)), c.inputShape);
    const y = model.predict(x) as tf.Tensor;
    const err = relL2(await y.data(), floats(await read(c.output)));
    tf.dispose([x, y]);
    model.dispose();
    assert.ok(err <= TOLERANCE.float32, `rel L2 ${err}`);
    assert.deepEqual(requested.map((u) => u.split('/').pop()), ['model.json', ...sharded.shards.map((s) => s.path)]);
  });

  it('--input-layout nhwc takes NHWC input and gives the same output', async () => {
    await useBackend('cpu');
    const c = fixtures.find((f) => f.name === 'torchvision_convnext_tiny16_op17')!;
    const r = await runFixture(read, c, { inputLayout: 'nhwc' }, (x) => tf.transpose(x, [0, 2, 3, 1]));
    assert.deepEqual(r.result.graph.inputs[0].shape, [-1, 64, 64, 3]);
    assert.ok(r.relL2 <= TOLERANCE.float32, `rel L2 ${r.relL2}`);
    assert.equal(r.result.graph.nodes.filter((n) => n.op === 'Transpose').length, 0, 'no layout transpose left');
  });
  it('--quantize float16 / uint8 stay within the documented tolerances', async () => {
    await useBackend('cpu');
    const c = fixtures.find((f) => f.name === 'torchvision_convnext_tiny16_op17')!;
    const f16 = await runFixture(read, c, { quantize: 'float16' });
    const u8 = await runFixture(read, c, { quantize: 'uint8' });
    console.log(`  quantized ${c.name}: float16 rel L2 ${f16.relL2.toExponential(2)}, uint8 ${u8.relL2.toExponential(2)}`);
    assert.ok(f16.relL2 <= TOLERANCE.float16, `float16 rel L2 ${f16.relL2}`);
    assert.ok(u8.relL2 <= 5e-2, `uint8 rel L2 ${u8.relL2}`);
    assert.ok(f16.relL2 > 0 && u8.relL2 > f16.relL2, 'quantization is really applied');
  });
});
