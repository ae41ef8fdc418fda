// ONNX external data (model.onnx + model.onnx.data, torch's dynamo exporter's default): the CLI reads the data file
// next to the .onnx; a missing, truncated or outside one is named.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/convert.js';
import { encodeOnnx, externalizeInitializers } from '../support/onnx_builder.js';
import { type CliResult, runCaptured } from '../support/cli.js';

const fixture = new URL('../../../shared/fixtures/onnx/convfirst_c32_gw8_op17.onnx', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'tbf-external-data-'));
after(() => { rmSync(work, { recursive: true, force: true }); });

const convert = (args: string[]): Promise<CliResult> => runCaptured(() => run(args));

/** A folder holding `model.onnx` and its data file as `files` gives them. */
function modelFolder(name: string, files: Record<string, Uint8Array>): string {
  const dir = join(work, name);
  mkdirSync(dir);
  for (const [file, bytes] of Object.entries(files)) writeFileSync(join(dir, file), bytes);
  return join(dir, 'model.onnx');
}

/** A one-Mul model whose weight [4] lives in an external data file at `entry`. */
const mulWithExternal = (entry: { location: string; offset?: number | string; length?: number | string }): Uint8Array => encodeOnnx({
  inputs: { x: [1, 4] }, outputs: { y: [1, 4] }, initializers: { w: { dims: [4], external: entry } },
  nodes: [{ op: 'Mul', inputs: ['x', 'w'], outputs: ['y'] }] });

describe('convert: ONNX external data', () => {
  it('a torch export with its weights in model.onnx.data converts to the same files as the embedded one', async () => {
    const { onnx, data } = externalizeInitializers(new Uint8Array(readFileSync(fixture)), 'model.onnx.data');
    assert.ok(onnx.byteLength < 20000 && data.byteLength > 100000, 'the weights moved out');
    const input = modelFolder('torch', { 'model.onnx': onnx, 'model.onnx.data': data });
    const [embedded, external] = [join(work, 'embedded-out'), join(work, 'external-out')];
    assert.equal((await convert([fixture, embedded])).code, 0);
    const r = await convert([input, external]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /fused 0 ConvNeXt and 3 ConvFirst blocks/);
    assert.deepEqual(readFileSync(join(external, 'group1-shard1of1.bin')), readFileSync(join(embedded, 'group1-shard1of1.bin')));
    assert.deepEqual(JSON.parse(readFileSync(join(external, 'model.json'), 'utf8')).weightsManifest,
      JSON.parse(readFileSync(join(embedded, 'model.json'), 'utf8')).weightsManifest);
  });

  it('a missing, truncated or outside data file, or a corrupt offset, is named (exit 1, nothing written)', async () => {
    const weights = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
    const cases: [string, Record<string, Uint8Array>, RegExp][] = [
      ['missing', { 'model.onnx': mulWithExternal({ location: 'w.bin' }) },
        /external data file w\.bin named by model\.onnx is missing: not found next to it in /],
      ['truncated', { 'model.onnx': mulWithExternal({ location: 'w.bin', offset: 8, length: 16 }), 'w.bin': weights },
        /external data file w\.bin is 16 bytes, but model\.onnx reads bytes 8\.\.24 of it: truncated, or not this model's/],
      ['outside', { 'model.onnx': mulWithExternal({ location: '../w.bin' }) },
        /external data file \.\.\/w\.bin listed in .*model\.onnx is outside the model's folder/],
      ['bad-offset', { 'model.onnx': mulWithExternal({ location: 'w.bin', offset: '-4' }), 'w.bin': weights },
        /initializer 'w': external data offset '-4' is not a byte position/],
      ['short-length', { 'model.onnx': mulWithExternal({ location: 'w.bin', length: 12 }), 'w.bin': weights },
        /initializer 'w': its external data holds 12 bytes, but 4 float32 values for shape \[4\] take 16/],
    ];
    writeFileSync(join(work, 'w.bin'), weights); // what 'outside' points at: only the path may refuse it
    for (const [name, files, message] of cases) {
      const out = join(work, `${name}-out`);
      const r = await convert([modelFolder(name, files), out]);
      assert.equal(r.code, 1, `${name}: ${r.stderr}`);
      assert.match(r.stderr, message, name);
      assert.throws(() => readFileSync(join(out, 'model.json')), name);
    }
    // Offset and length as given: the second half of a file holding two weight sets.
    const both = new Uint8Array([...new Uint8Array(16), ...weights]);
    const ok = await convert([modelFolder('offset', { 'model.onnx': mulWithExternal({ location: 'w.bin', offset: 16, length: 16 }),
      'w.bin': both }), join(work, 'offset-out'), '--no-fuse']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(new Uint8Array(readFileSync(join(work, 'offset-out', 'group1-shard1of1.bin'))), weights);
  });

  it('a data file over 2 GiB (sparse here) is read at the offset given, past what Node reads at once', async () => {
    const weights = new Uint8Array(new Float32Array([5, 6, 7, 8]).buffer);
    const offset = 5 * 2 ** 29; // 2.5 GiB
    const input = modelFolder('big', { 'model.onnx': mulWithExternal({ location: 'big.data', offset, length: 16 }) });
    const data = join(work, 'big', 'big.data');
    const fd = openSync(data, 'w');
    try {
      writeSync(fd, weights, 0, 16, offset);
      ftruncateSync(fd, 3 * 2 ** 30);
    } finally {
      closeSync(fd);
    }
    const r = await convert([input, join(work, 'big-out'), '--no-fuse']);
    rmSync(data);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(new Uint8Array(readFileSync(join(work, 'big-out', 'group1-shard1of1.bin'))), weights);
  });
});
