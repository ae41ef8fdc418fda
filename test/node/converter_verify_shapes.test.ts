// --verify on models whose height and width are dynamic: it must not feed a 1x1 image.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import '../../src/index.js';
import { useBackend } from '../support/node_backends.js';
import { convertModel } from '../../src/converter/convert.js';
import { ONNX_PROTO_JSON } from '../../src/converter/onnx_schema.js';
import { VERIFY_SPATIAL_SIZE, verifyConversion, verifyInputShape } from '../../src/converter/report.js';

const fixtures = join(new URL('../..', import.meta.url).pathname, '..', 'shared', 'fixtures');

/** The torchvision fixture as exported with dynamic_axes {0: N, 2: H, 3: W}. */
function dynamicHwOnnx(): Uint8Array {
  const T = protobuf.Root.fromJSON(ONNX_PROTO_JSON as unknown as protobuf.INamespace).lookupType('onnx.ModelProto');
  const m = T.toObject(T.decode(readFileSync(join(fixtures, 'onnx', 'torchvision_convnext_tiny16_op17.onnx'))),
    { longs: Number, defaults: false, arrays: true }) as { graph: { input: { type: { tensorType: { shape: { dim: object[] } } } }[] } };
  const dim = m.graph.input[0].type.tensorType.shape.dim;
  dim[2] = { dimParam: 'H' };
  dim[3] = { dimParam: 'W' };
  return T.encode(T.fromObject(m)).finish();
}

describe('converter --verify input shapes', () => {
  it('gives unknown height / width of an NCHW or NHWC image the verify size, other unknown dims 1', () => {
    const s = VERIFY_SPATIAL_SIZE;
    assert.deepEqual(verifyInputShape({ name: 'x', dtype: 'float32', shape: [-1, 3, -1, -1], layout: 'NCHW' }), [1, 3, s, s]);
    assert.deepEqual(verifyInputShape({ name: 'x', dtype: 'float32', shape: [-1, -1, -1, 3] }), [1, s, s, 3]);
    assert.deepEqual(verifyInputShape({ name: 'x', dtype: 'float32', shape: [-1, 10] }), [1, 10]);
  });

  it('--verify runs a model whose height and width are dynamic (not on a 1x1 image)', async () => {
    await useBackend('cpu');
    const r = convertModel({ format: 'onnx', bytes: dynamicHwOnnx() });
    assert.deepEqual(r.graph.inputs[0].shape, [-1, 3, -1, -1]);
    const v = await verifyConversion(r.unfused, r.graph, { seed: 1 });
    assert.equal(v.inputShapes[0][0], 1);
    assert.ok(v.inputShapes[0][2] >= 32 && v.inputShapes[0][3] >= 32, `verify input ${v.inputShapes[0]}`);
    assert.ok(v.maxRelError < 1e-5, `max rel error ${v.maxRelError}`);
  });
});

