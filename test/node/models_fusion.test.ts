import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertModel } from '../../src/converter/convert.js';
import { fuseBlocks } from '../../src/converter/fusion.js';
import { type Graph, valueNode } from '../../src/converter/ir.js';
import { buildModelGraph, MODEL_FAMILIES, STAGES } from '../../models/index.js';
import { freshSeed } from '../support/random.js';

const seed = freshSeed();

/**
 * A name-free description of a graph: nodes in post-order from the outputs (inputs in order), each with
 * its op, attributes and inputs given as a node's position, the graph input, or a constant's dtype,
 * shape and values. Two graphs that compute the same thing the same way have equal descriptions.
 */
function describeGraph(g: Graph): unknown[] {
  const producers = g.producerMap();
  const position = new Map<string, number>();
  const out: unknown[] = [];
  const visit = (name: string): void => {
    if (position.has(name)) return;
    const n = producers.get(name);
    if (n == null) return;
    for (const v of n.inputs) visit(valueNode(v));
    const inputs = n.inputs.map((v) => {
      const c = g.constants.get(valueNode(v));
      if (c) return { const: c.dtype, shape: c.shape, data: Array.from(c.data) };
      if (position.has(valueNode(v))) return { node: position.get(valueNode(v)), out: v.split(':')[1] ?? '0' };
      return { input: g.inputs.findIndex((i) => i.name === v) };
    });
    position.set(name, out.length);
    out.push({ op: n.op, attrs: n.attrs, inputs });
  };
  for (const o of g.outputs) visit(valueNode(o));
  return out;
}

describe(`converter fusion pass on built models (seed ${seed})`, () => {
  for (const family of MODEL_FAMILIES) {
    it(`${family}-atto: fuseBlocks(unfused graph) is the fused graph (blocks, standalone LayerNorms, patch convs, head)`, () => {
      const options = { seed, inputSize: 32 };
      const unfused = buildModelGraph(family, 'atto', { ...options, fused: false });
      const fused = buildModelGraph(family, 'atto', { ...options, fused: true });
      const result = fuseBlocks(unfused);
      const blocks = STAGES.atto.depths.reduce((a, b) => a + b, 0);
      assert.equal(result.counts[family], blocks);
      assert.equal(result.blocks.length, blocks);
      // stem, one downsample per stage after the first, head; the downsample ones fold into their patch conv
      const downsamples = STAGES.atto.depths.length - 1;
      const layerNorms = 1 + downsamples + 1;
      assert.equal(result.counts.layerNorm, 0, 'none standalone: the stem\'s is its patch conv\'s post-norm, the head\'s in the head');
      assert.equal(fused.opCounts().FusedLayerNorm, undefined);
      assert.equal(result.counts.classifierHead, 1);
      assert.deepEqual(result.classifierHeads.map((h) => [h.channels, h.classes]), [[STAGES.atto.widths[3], 1000]]);
      assert.equal(fused.opCounts().FusedClassifierHead, 1);
      assert.equal(result.counts.patchConv, 1 + downsamples, 'stem and downsample convs');
      assert.equal(result.patchConvs.filter((p) => p.preNorm != null).length, downsamples);
      assert.equal(result.patchConvs.filter((p) => p.postNorm != null).length, 1, 'the stem');
      assert.equal(fused.opCounts().FusedPatchConv, 1 + downsamples);
      assert.equal(result.graph.opCounts().Conv2D, family === 'convnext' ? undefined : fused.opCounts().Conv2D);
      assert.equal(result.graph.opCounts().Rsqrt, undefined, 'no LayerNorm composite left');
      // Without the LayerNorm pass, the blocks alone: the stock LayerNorms stay.
      assert.equal(fuseBlocks(unfused, { layerNorms: false }).graph.opCounts().Rsqrt, layerNorms);
      // Without the head pass, the head's LayerNorm stays a standalone FusedLayerNorm.
      const noHead = fuseBlocks(unfused, { classifierHead: false });
      assert.equal(noHead.counts.classifierHead, 0);
      assert.equal(noHead.counts.layerNorm, 1);
      assert.equal(noHead.graph.opCounts().MatMul, 1);
      assert.deepEqual(result.graph.opCounts(), fused.opCounts());
      assert.deepEqual(result.graph.inputs, fused.inputs);
      // Deep equality of the whole description, weight values included (exact: the pass only re-lays out).
      const a = describeGraph(result.graph);
      const b = describeGraph(fused);
      assert.equal(a.length, b.length);
      for (let i = 0; i < a.length; i++) assert.deepEqual(a[i], b[i], `node ${i} of ${a.length}`);
    });
  }
});

describe('ConvFirstNet blocks are the blocks PyTorch ConvFirst models convert to', () => {
  it('the convfirst ONNX fixture fuses to blocks with the same spec as ConvFirstNet\'s (up to width)', () => {
    const root = join(new URL('../..', import.meta.url).pathname, '..', 'shared', 'fixtures', 'onnx');
    const bytes = new Uint8Array(readFileSync(join(root, 'convfirst_c32_gw8_op17.onnx')));
    const converted = convertModel({ format: 'onnx', bytes }).blocks;
    assert.equal(converted.length, 3, 'the fixture has three ConvFirst blocks');
    const ours = fuseBlocks(buildModelGraph('convfirst', 'atto', { fused: false, inputSize: 32, weights: 'zeros' })).blocks;
    const { spec: model } = ours[0];
    for (const { spec } of converted) {
      assert.deepEqual({ ...spec, channels: 0, hidden: spec.hidden / spec.channels },
        { ...model, channels: 0, hidden: model.hidden / model.channels });
    }
  });
});
