// Every error path of the converter library and the CLI: a clear message, a non-zero exit, no outdir
// left behind, the input never modified.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertModel } from '../../src/converter/convert.js';
import { writeGraphModel } from '../../src/converter/graphmodel_writer.js';
import { ConversionError } from '../../src/converter/errors.js';
import { decodeOnnx } from '../../src/converter/onnx_import.js';
import { importTfjs } from '../../src/converter/tfjs_import.js';
import { parseArgs, run } from '../../src/cli/convert.js';
import { encodeOnnx } from '../support/onnx_builder.js';
import { type CliResult, runCaptured, spawnCli } from '../support/cli.js';

const repo = new URL('../..', import.meta.url).pathname;
const fixtures = join(repo, '..', 'shared', 'fixtures');
const onnxFixture = join(fixtures, 'onnx', 'convfirst_c32_gw8_op17.onnx');
const onnxBytes = new Uint8Array(readFileSync(onnxFixture));
const kerasDir = join(fixtures, 'tfjs', 'keras_convnext_tiny16_b1');

const cli = (args: string[]): CliResult => spawnCli(['convert', ...args]);
/** The command in-process (fast); the CLI tests that need the real bin spawn it. */
const runIn = (args: string[]): Promise<CliResult> => runCaptured(() => run(args));

const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('converter error paths (library)', () => {
  it('a truncated ONNX file is rejected with a clear message', () => {
    for (const cut of [10, 1000, Math.floor(onnxBytes.length / 2), onnxBytes.length - 7]) {
      assert.throws(() => decodeOnnx(onnxBytes.subarray(0, cut)),
        (e: Error) => e instanceof ConversionError && /truncated|corrupt|not a valid ONNX/.test(e.message), `cut at ${cut}`);
    }
  });

  it('corrupt and empty ONNX input is rejected', () => {
    const junk = Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24);
    assert.throws(() => decodeOnnx(junk), ConversionError);
    assert.throws(() => decodeOnnx(new Uint8Array(0)), /empty/);
    assert.throws(() => decodeOnnx(new TextEncoder().encode('{"not": "onnx"}')), ConversionError);
  });

  it('bad sources and options are named (not a TypeError, not a silent fallback)', () => {
    const src = { format: 'onnx' as const, bytes: onnxBytes };
    const named = (f: () => unknown, re: RegExp) => assert.throws(f, (e: Error) => e instanceof ConversionError && re.test(e.message));
    named(() => convertModel(src, { quantize: 'fp16' as never }), /quantize must be 'float16' or 'uint8' \(or left out\), got "fp16"/);
    named(() => convertModel(src, { inputLayout: 'NHWC' as never }), /inputLayout must be 'nchw' or 'nhwc'.*got "NHWC"/);
    named(() => convertModel(src, { fuse: 'no' as never }), /fuse must be a boolean, got "no"/);
    named(() => convertModel({ format: 'keras' } as never), /source must be \{ format: 'onnx', bytes \}.*got format "keras"/);
    named(() => convertModel(null as never), /source must be .* got null/);
    named(() => convertModel({ format: 'onnx' } as never), /source\.bytes must be a Uint8Array or an ArrayBuffer .* got nothing/);
    named(() => convertModel({ format: 'tfjs', modelJson: {}, weightData: 'x' } as never), /source\.weightData must be/);
    const graph = convertModel(src).graph;
    for (const shardBytes of [0, -5, Number.NaN, 6]) {
      named(() => writeGraphModel(graph, { shardBytes }), /shardBytes must be a positive multiple of 4/);
    }
    named(() => writeGraphModel(graph, { quantize: 'int8' as never }), /quantize must be/);
  });

  it('an ArrayBuffer (what fetch().arrayBuffer() gives) converts like its Uint8Array, and options may be null', () => {
    const copy = onnxBytes.slice();
    const fromBuffer = convertModel({ format: 'onnx', bytes: copy.buffer }, null);
    const fromBytes = convertModel({ format: 'onnx', bytes: onnxBytes });
    assert.deepEqual(fromBuffer.report.nodes, fromBytes.report.nodes);
    assert.deepEqual(fromBuffer.files.shards.map((f) => f.data), fromBytes.files.shards.map((f) => f.data));
  });

  it('unsupported ops are all listed with their node positions', () => {
    const bytes = encodeOnnx({
      inputs: { x: [1, 4] }, outputs: { y: [1, 4] },
      nodes: [
        { op: 'Relu', inputs: ['x'], outputs: ['a'] },
        { op: 'LSTM', inputs: ['a'], outputs: ['b'], name: 'rnn' },
        { op: 'Sigmoid', inputs: ['b'], outputs: ['c'] },
        { op: 'TopK', inputs: ['c'], outputs: ['d'], name: 'topk' },
        { op: 'MyOp', inputs: ['d'], outputs: ['y'], domain: 'com.example', name: 'custom' },
      ],
    });
    assert.throws(() => convertModel({ format: 'onnx', bytes }), (e: Error) => {
      assert.ok(e instanceof ConversionError);
      assert.match(e.message, /3 node\(s\)/);
      assert.match(e.message, /node #1 'rnn' \(LSTM\)/);
      assert.match(e.message, /node #3 'topk' \(TopK\)/);
      assert.match(e.message, /node #4 'custom' \(com\.example\.MyOp\)/);
      return true;
    });
  });

  it('weights stored in an external file are reported with the fix', () => {
    const bytes = encodeOnnx({ inputs: { x: [1, 4] }, outputs: { y: [1, 4] }, initializers: { w: { dims: [4], external: 'w.bin' } },
      nodes: [{ op: 'Mul', inputs: ['x', 'w'], outputs: ['y'] }] });
    // Without a reader (the library in a page): names the data file, the reader option, and that embedding stops at 2 GB.
    assert.throws(() => decodeOnnx(bytes), /initializer 'w': tensor data is stored in an external file \('w\.bin'\): give convertModel a reader .* under 2 GB/);
  });

  it('raw_data whose length does not fit the element type names the initializer (not a bare RangeError)', () => {
    // A Reshape target (int64) and weights of other widths, each with raw_data cut short by a few bytes.
    const cases: [dataType: number, dims: number[], bytes: number, type: string][] =
      [[7, [2], 12, 'int64'], [11, [1], 5, 'float64'], [10, [2], 3, 'float16'], [6, [2], 6, 'int32'], [1, [2], 9, 'float32']];
    for (const [dataType, dims, bytes, type] of cases) {
      const model = encodeOnnx({ inputs: { x: [1, 4] }, outputs: { y: [2, 2] },
        initializers: { shape: { dims, raw: { dataType, bytes: new Uint8Array(bytes) } } },
        nodes: [{ op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] }] });
      assert.throws(() => decodeOnnx(model), (e: Error) => e instanceof ConversionError &&
        e.message.includes(`initializer 'shape': raw_data holds ${bytes} bytes`) && e.message.includes(`${type} values`) &&
        /truncated or corrupt/.test(e.message), type);
    }
  });

  it('an unsupported attribute form names the node', () => {
    const bytes = encodeOnnx({
      inputs: { x: [1, 2, 4, 4] }, outputs: { y: [1, 2, 2, 2] },
      nodes: [{ op: 'MaxPool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }, name: 'pool' }],
    });
    assert.throws(() => convertModel({ format: 'onnx', bytes }), /node #0 'pool' \(MaxPool\): ceil_mode=1/);
    // A dilated MaxPool (opset 10+): lowered without its dilation it converted silently into another function.
    const dilated = encodeOnnx({
      inputs: { x: [1, 2, 8, 8] }, outputs: { y: [1, 2, 6, 6] },
      nodes: [{ op: 'MaxPool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: [2, 2], dilations: [2, 2] }, name: 'pool' }],
    });
    assert.throws(() => convertModel({ format: 'onnx', bytes: dilated }), /node #0 'pool' \(MaxPool\): dilations \[2, 2\] are not supported/);
    // A training-mode BatchNormalization normalizes with batch statistics; it was lowered with the running ones.
    const bnInit = Object.fromEntries(['s', 'b', 'm', 'v'].map((n) => [n, { dims: [2], float: n === 'v' || n === 's' ? [1, 1] : [0, 0] }]));
    for (const [attrs, outputs] of [[{ training_mode: 1 }, ['y', 'rm', 'rv']], [{}, ['y', 'rm', 'rv']]] as const) {
      const bn = encodeOnnx({ inputs: { x: [2, 2, 3, 3] }, outputs: { y: [2, 2, 3, 3] }, initializers: bnInit,
        nodes: [{ op: 'BatchNormalization', inputs: ['x', 's', 'b', 'm', 'v'], outputs: [...outputs], attrs, name: 'bn' }] });
      assert.throws(() => convertModel({ format: 'onnx', bytes: bn }), /node #0 'bn' \(BatchNormalization\): training-mode/);
    }
  });

  it('shapes that disagree (Add of [1, 4] and [3], a Gather past a shape\'s end) name the node, as a ConversionError', () => {
    const add = encodeOnnx({ inputs: { a: [1, 4] }, outputs: { y: [1, 4] }, initializers: { w: { dims: [3], float: [1, 2, 3] } },
      nodes: [{ op: 'Add', inputs: ['a', 'w'], outputs: ['y'], name: 'add' }] });
    assert.throws(() => convertModel({ format: 'onnx', bytes: add }), (e: Error) => e instanceof ConversionError &&
      e.message === "node #0 'add' (Add): shapes [1, 4] and [3] do not broadcast");
    const gather = encodeOnnx({ inputs: { a: [2, 4] }, outputs: { y: [] }, initializers: { i: { dims: [], int64: [5] } },
      nodes: [{ op: 'Shape', inputs: ['a'], outputs: ['s'] }, { op: 'Gather', inputs: ['s', 'i'], outputs: ['y'], name: 'g' }] });
    assert.throws(() => convertModel({ format: 'onnx', bytes: gather }), (e: Error) => e instanceof ConversionError &&
      /^node #1 'g' \(Gather\): gather index 5 out of range/.test(e.message));
  });

  it('inner dimensions that disagree (MatMul, Gemm, Conv channels) name the node at conversion, not at run time', () => {
    const refused = (model: Parameters<typeof encodeOnnx>[0], message: string): void => {
      assert.throws(() => convertModel({ format: 'onnx', bytes: encodeOnnx(model) }, { fuse: false }),
        (e: Error) => e instanceof ConversionError && e.message === message, message);
    };
    refused({ inputs: { a: [1, 4] }, outputs: { y: [1, 2] }, initializers: { w: { dims: [3, 2], float: [1, 2, 3, 4, 5, 6] } },
      nodes: [{ op: 'MatMul', inputs: ['a', 'w'], outputs: ['y'], name: 'mm' }] },
    "node #0 'mm' (MatMul): A's columns and B's rows differ (4 vs 3)");
    refused({ inputs: { a: [2, 3, 4], b: [5, 4, 2] }, outputs: { y: [2, 3, 2] },
      nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['y'], name: 'bmm' }] },
    "node #0 'bmm' (MatMul): shapes [2] and [5] do not broadcast");
    refused({ inputs: { a: [1, 4] }, outputs: { y: [1, 2] }, initializers: { w: { dims: [2, 3], float: [1, 2, 3, 4, 5, 6] } },
      nodes: [{ op: 'Gemm', inputs: ['a', 'w'], outputs: ['y'], name: 'fc', attrs: { transB: 1 } }] },
    "node #0 'fc' (Gemm): A's columns and B's columns (transB) differ (4 vs 3)");
    refused({ inputs: { x: [1, 3, 4, 4] }, outputs: { y: [1, 2, 4, 4] },
      initializers: { w: { dims: [2, 4, 1, 1], float: [1, 2, 3, 4, 5, 6, 7, 8] } },
      nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], name: 'conv' }] },
    "node #0 'conv' (Conv): the input's channels and the weight's (in channels per group x group) differ (3 vs 4)");
    refused({ inputs: { x: [1, 4, 4, 4] }, outputs: { y: [1, 3, 4, 4] },
      initializers: { w: { dims: [3, 2, 1, 1], float: [1, 2, 3, 4, 5, 6] } },
      nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], name: 'gconv', attrs: { group: 2 } }] },
    "node #0 'gconv' (Conv): 3 output channels do not split into 2 groups");
    // The same shapes made consistent convert.
    assert.doesNotThrow(() => convertModel({ format: 'onnx', bytes: encodeOnnx({ inputs: { a: [1, 4] }, outputs: { y: [1, 3] },
      initializers: { w: { dims: [3, 4], float: new Array(12).fill(1) } },
      nodes: [{ op: 'Gemm', inputs: ['a', 'w'], outputs: ['y'], name: 'fc', attrs: { transB: 1 } }] }) }, { fuse: false }));
  });

  it('opset < 13 Softmax without axis uses that opset\'s default axis 1: refused at rank 3, converted at rank 2', () => {
    const softmax = (opset: number, shape: number[]): Uint8Array => encodeOnnx({ opset, inputs: { x: shape }, outputs: { y: shape },
      nodes: [{ op: 'Softmax', inputs: ['x'], outputs: ['y'], name: 'sm' }] });
    const { warn } = console;
    console.warn = () => {}; // the opset-outside-13..20 warning
    try {
      // Opset 11's default is softmax over axes 1.. flattened: the last axis alone would be a silently wrong model.
      assert.throws(() => convertModel({ format: 'onnx', bytes: softmax(11, [1, 2, 4]) }, { fuse: false }),
        /node #0 'sm' \(Softmax\): Softmax over axis 1 \(only the last axis is supported\)/);
      assert.doesNotThrow(() => convertModel({ format: 'onnx', bytes: softmax(11, [1, 4]) }, { fuse: false }));
      assert.doesNotThrow(() => convertModel({ format: 'onnx', bytes: softmax(13, [1, 2, 4]) }, { fuse: false }));
    } finally {
      console.warn = warn;
    }
  });

  it('TF.js: missing or truncated shards, bad model.json', () => {
    const mj = JSON.parse(readFileSync(join(kerasDir, 'model.json'), 'utf8'));
    const shard = new Uint8Array(readFileSync(join(kerasDir, 'group1-shard1of1.bin')));
    assert.throws(() => importTfjs(mj, shard.subarray(0, shard.length - 100)), /truncated/);
    assert.throws(() => importTfjs(mj, new Uint8Array([...shard, 1, 2, 3, 4])), /do not belong/);
    assert.throws(() => importTfjs({ format: 'layers-model' } as never, shard), /not a TF.js GraphModel/);
    assert.throws(() => importTfjs({ ...mj, format: 'layers-model' }, shard), /expected 'graph-model'/);
    const broken = structuredClone(mj);
    broken.modelTopology.node.find((n: { op: string }) => n.op === 'Rsqrt').input = ['nowhere'];
    assert.throws(() => importTfjs(broken, shard), /inconsistent.*nowhere/);
  });

  it('--input-layout nchw is rejected for TF.js input', () => {
    const mj = JSON.parse(readFileSync(join(kerasDir, 'model.json'), 'utf8'));
    assert.throws(() => convertModel({ format: 'tfjs', modelJson: mj, weightData: new Uint8Array(readFileSync(join(kerasDir, 'group1-shard1of1.bin'))) },
      { inputLayout: 'nchw' }), /applies to ONNX models/);
  });

  it('argument parsing rejects bad options', () => {
    assert.throws(() => parseArgs(['a.onnx']), /expected <model> and <outdir>/);
    assert.throws(() => parseArgs(['a.onnx', 'out', '--quantize', 'int4']), /float16 or uint8/);
    assert.throws(() => parseArgs(['a.onnx', 'out', '--input-layout=chw']), /nchw or nhwc/);
    assert.throws(() => parseArgs(['a.onnx', 'out', '--bogus']), /unknown option/);
    assert.deepEqual(parseArgs(['a.onnx', 'out', '--verify', '--quantize=float16', '--input-layout', 'NHWC']),
      { verify: true, fuse: true, overwrite: false, quantize: 'float16', inputLayout: 'nhwc', input: 'a.onnx', outdir: 'out' });
  });
});

describe('converter CLI', () => {
  const work = mkdtempSync(join(tmpdir(), 'tbf-cli-'));

  it('converts an ONNX model with --verify: files, report, exit 0, input untouched', () => {
    const input = join(work, 'model.onnx');
    copyFileSync(onnxFixture, input);
    const before = sha(input);
    const out = join(work, 'out');
    const r = cli([input, out, '--verify']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\[convert\] importing ONNX model/);
    assert.match(r.stdout, /fused 0 ConvNeXt and 3 ConvFirst blocks/);
    assert.match(r.stdout, /verify \(seed 1234, cpu\): max abs error/);
    assert.deepEqual(readdirSync(out).sort(), ['conversion-report.json', 'group1-shard1of1.bin', 'model.json']);
    const report = JSON.parse(readFileSync(join(out, 'conversion-report.json'), 'utf8'));
    assert.equal(report.blocks.convfirst, 3);
    assert.ok(report.verify.maxRelError < 1e-5, `verify ${report.verify.maxRelError}`);
    assert.equal(sha(input), before, 'input unchanged');
    assert.deepEqual(readdirSync(work).sort(), ['model.onnx', 'out'], 'no staging directory left');
  });

  it('a truncated file: exit 1, message, no outdir', async () => {
    const input = join(work, 'trunc.onnx');
    writeFileSync(input, onnxBytes.subarray(0, 5000));
    const out = join(work, 'trunc-out');
    const r = await runIn([input, out]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not a valid ONNX model/);
    assert.equal(existsSync(out), false);
    assert.ok(!readdirSync(work).some((f) => f.includes('partial')));
  });

  it('an ONNX file over 2 GiB: exit 1, names the file and the 2 GB limit (not Node\'s bare "File size ... is greater")', async () => {
    const input = join(work, 'huge.onnx');
    writeFileSync(input, '');
    truncateSync(input, 3 * 2 ** 30); // sparse: takes no disk space
    const r = await runIn([input, join(work, 'huge-out')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot read .*huge\.onnx: it is 3\.22 GB, more than the 2 GiB .*protobuf limits it to 2 GB/);
    rmSync(input);
    assert.equal(existsSync(join(work, 'huge-out')), false);
  });

  it('a TF.js model with a missing shard: exit 1, names the shard', async () => {
    const dir = join(work, 'keras');
    cpSync(kerasDir, dir, { recursive: true });
    rmSync(join(dir, 'group1-shard1of1.bin'));
    const r = await runIn([join(dir, 'model.json'), join(work, 'keras-out')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /weight shard group1-shard1of1.bin .* is missing/);
    assert.equal(existsSync(join(work, 'keras-out')), false);
  });

  it('a model without blocks converts unfused, says so, exits 3', async () => {
    const input = join(work, 'mbv2.onnx');
    copyFileSync(join(fixtures, 'onnx', 'torchvision_mobilenet_v2_w025_op17.onnx'), input);
    const out = join(work, 'mb-out');
    const r = await runIn([input, out]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /no ConvNeXt or ConvFirst block was found; the model was written unfused/);
    assert.ok(existsSync(join(out, 'model.json')));
    assert.equal((await runIn([input, join(work, 'mb-out2'), '--no-fuse'])).code, 0, '--no-fuse is not an error');
  });

  it('refuses a non-empty outdir without --overwrite, and an unknown option or missing file', async () => {
    const out = join(work, 'busy');
    mkdirSync(out);
    writeFileSync(join(out, 'keep.txt'), 'x');
    const r = await runIn([onnxFixture, out]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not empty/);
    assert.equal(readFileSync(join(out, 'keep.txt'), 'utf8'), 'x');
    // --overwrite deletes the folder: only an earlier output (a model.json in it) is replaced, never other files,
    // the current directory or a folder above it, and an empty <outdir> (an unset "$OUT") is a usage error.
    const refused = await runIn([onnxFixture, out, '--overwrite']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /busy is not empty and holds no model\.json: --overwrite replaces only an earlier output folder/);
    assert.equal(readFileSync(join(out, 'keep.txt'), 'utf8'), 'x');
    // In a scratch folder that looks like an earlier output, so only the current-directory rule can refuse it.
    const guard = join(work, 'cwd-guard');
    mkdirSync(join(guard, 'inner'), { recursive: true });
    writeFileSync(join(guard, 'model.json'), '{}');
    const cwd = process.cwd();
    try {
      process.chdir(join(guard, 'inner'));
      for (const target of ['.', '..']) {
        const here = await runIn([onnxFixture, target, '--overwrite']);
        assert.equal(here.code, 1, target);
        assert.match(here.stderr, /is the current directory or contains it: write into a new folder/);
      }
    } finally {
      process.chdir(cwd);
    }
    assert.ok(existsSync(join(guard, 'model.json')) && existsSync(join(guard, 'inner')));
    const empty = await runIn([onnxFixture, '', '--overwrite']);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /<outdir> is empty/);
    const earlier = join(work, 'earlier');
    assert.equal((await runIn([onnxFixture, earlier])).code, 0);
    writeFileSync(join(earlier, 'stale.txt'), 'x');
    assert.equal((await runIn([onnxFixture, earlier, '--overwrite'])).code, 0, 'an earlier output is replaced');
    assert.equal(existsSync(join(earlier, 'stale.txt')), false);
    assert.ok(existsSync(join(earlier, 'model.json')));
    assert.equal((await runIn([onnxFixture])).code, 2);
    assert.equal((await runIn([onnxFixture, join(work, 'o2'), '--frobnicate'])).code, 2);
    const badJson = join(work, 'bad');
    mkdirSync(badJson);
    writeFileSync(join(badJson, 'model.json'), '{"format": "graph-model", "modelTopo');
    const bj = await runIn([join(badJson, 'model.json'), join(work, 'o4')]);
    assert.equal(bj.code, 1);
    assert.match(bj.stderr, /not valid JSON .*truncated or corrupt model.json/);
    const same = await runIn([join(badJson, 'model.json'), badJson, '--overwrite']);
    assert.equal(same.code, 1);
    assert.match(same.stderr, /must not be the input model or its directory/);
    assert.ok(existsSync(join(badJson, 'model.json')), 'input left in place');
    const missing = await runIn([join(work, 'nope.onnx'), join(work, 'o3')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /does not exist/);
  });

  it('cleans up', () => { rmSync(work, { recursive: true, force: true }); });
});
