// convert CLI: TF.js input with ops TF.js cannot run, output checks before the slow work, switches given a
// value, --input-layout on TF.js input, an already fused input, file-level errors naming the file at fault,
// and a quiet, ordered log.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertModel } from '../../src/converter/convert.js';
import { ConversionError } from '../../src/converter/errors.js';
import { importTfjs, type TfjsModelJson, type TfjsWeightEntry } from '../../src/converter/tfjs_import.js';
import { run } from '../../src/cli/convert.js';
import { type CliResult, runCaptured, spawnCli } from '../support/cli.js';

const repo = new URL('../..', import.meta.url).pathname;
const fixtures = join(repo, '..', 'shared', 'fixtures');
const kerasDir = join(fixtures, 'tfjs', 'keras_convnext_tiny16_b1');
const onnxFixture = join(fixtures, 'onnx', 'torchvision_convnext_tiny16_op17.onnx');
const work = mkdtempSync(join(tmpdir(), 'tbf-cli-errors-'));
after(() => { rmSync(work, { recursive: true, force: true }); });

const cli = (args: string[]): CliResult => spawnCli(['convert', ...args]);
/** The command in-process (fast); the CLI tests that need the real bin spawn it. */
const runIn = (args: string[]): Promise<CliResult> => runCaptured(() => run(args));

/** A copy of the Keras fixture; `edit` changes its parsed model.json (written back when it returns). */
function kerasCopy(name: string, edit?: (mj: TfjsModelJson & { modelTopology: { node: { name: string; op: string }[] } }) => unknown): string {
  const dir = join(work, name);
  cpSync(kerasDir, dir, { recursive: true });
  if (edit) {
    const mj = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const replaced = edit(mj);
    writeFileSync(join(dir, 'model.json'), JSON.stringify(replaced === undefined ? mj : replaced));
  }
  return dir;
}

/** Renames the first two Erf nodes to ops no one has (as the audit did); returns their positions and names. */
function renameErfs(mj: { modelTopology: { node: { name: string; op: string }[] } }): { index: number; name: string }[] {
  const hits = mj.modelTopology.node.map((n, index) => ({ n, index })).filter(({ n }) => n.op === 'Erf').slice(0, 2);
  hits.forEach(({ n }, k) => { n.op = `Foo${k}`; });
  return hits.map(({ n, index }) => ({ index, name: n.name }));
}

describe('convert: TF.js ops TF.js cannot run', () => {
  it('are listed with their node positions and the CLI exits 1 (as for ONNX), writing nothing', async () => {
    let hits: { index: number; name: string }[] = [];
    const dir = kerasCopy('foo-ops', (mj) => { hits = renameErfs(mj); });
    const out = join(work, 'foo-ops-out');
    const r = await runIn([dir, out]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /TF\.js graph uses 2 node\(s\) the converter does not support \(ops: Foo0, Foo1\)/);
    for (const [k, h] of hits.entries()) assert.ok(r.stderr.includes(`node #${h.index} '${h.name}' (Foo${k})`), r.stderr);
    assert.equal(existsSync(out), false);
  });

  it('the library accepts the stock ops, the fused ops and ops the app registers (customOps)', () => {
    const mj = JSON.parse(readFileSync(join(kerasDir, 'model.json'), 'utf8'));
    const shard = new Uint8Array(readFileSync(join(kerasDir, 'group1-shard1of1.bin')));
    renameErfs(mj);
    assert.throws(() => importTfjs(mj, shard), (e: Error) => e instanceof ConversionError && /Foo0, Foo1/.test(e.message));
    assert.throws(() => importTfjs(mj, shard, { customOps: ['Foo0'] }), /1 node\(s\).*\(ops: Foo1\)/);
    const g = importTfjs(mj, shard, { customOps: ['Foo0', 'Foo1'] });
    assert.equal(g.opCounts().Foo0, 1);
  });
});

describe('convert: output folder checked before the slow work', () => {
  it('a non-empty outdir or an outdir that is a file fails before the input is read', async () => {
    const busy = join(work, 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'keep.txt'), 'x');
    for (const out of [busy, join(busy, 'keep.txt')]) {
      const r = await runIn([onnxFixture, out, '--verify']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, out === busy ? /busy exists and is not empty \(pass --overwrite/ : /keep\.txt exists and is not a directory/);
      assert.doesNotMatch(r.stderr, /\[convert\] (reading|importing|verifying|writing)/, 'refused before any work');
    }
    assert.equal(readFileSync(join(busy, 'keep.txt'), 'utf8'), 'x');
  });

  it('an outdir under a file fails before the input is read, naming the file (not a system error)', async () => {
    const file = join(work, 'a-file');
    writeFileSync(file, 'x');
    const r = await runIn([onnxFixture, join(file, 'deeper', 'out'), '--verify']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot write .*a-file\/deeper\/out: .*a-file is a file, not a folder/);
    assert.doesNotMatch(r.stderr, /EEXIST|ENOTDIR|\[convert\] (reading|importing|verifying|writing)/, 'refused before any work');
    assert.equal(readFileSync(file, 'utf8'), 'x');
  });
});

describe('convert: switches and --input-layout', () => {
  for (const arg of ['--verify=no', '--overwrite=false', '--no-fuse=1', '--verify=']) {
    it(`${arg} is a usage error (exit 2), not the switch turned on`, async () => {
      const out = join(work, 'sw-out');
      const r = await runIn([onnxFixture, out, arg]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, new RegExp(`${arg.split('=')[0]} is a switch and takes no value \\(got '${arg}'\\)`));
      assert.equal(existsSync(out), false);
    });
  }

  it('--input-layout on a TF.js model is a usage error naming the option (exit 2), nhwc as well as nchw', async () => {
    for (const layout of ['nhwc', 'nchw']) {
      const out = join(work, `layout-${layout}`);
      const r = await runIn([kerasDir, out, '--input-layout', layout]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--input-layout applies to ONNX models only; .* is a TF\.js GraphModel/);
      assert.equal(existsSync(out), false);
    }
    const mj = JSON.parse(readFileSync(join(kerasDir, 'model.json'), 'utf8'));
    const weightData = new Uint8Array(readFileSync(join(kerasDir, 'group1-shard1of1.bin')));
    assert.throws(() => convertModel({ format: 'tfjs', modelJson: mj, weightData }, { inputLayout: 'nhwc' }), /applies to ONNX models only/);
  });
});

describe('convert: an already fused model', () => {
  it('is reported as already fused (not "no blocks found"), written as is, exit 0', async () => {
    const first = join(work, 'tv');
    assert.equal((await runIn([onnxFixture, first])).code, 0);
    const again = join(work, 'tv-again');
    const r = await runIn([first, again]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /already fused: 5 FusedConvNeXtBlock, 4 FusedPatchConv, 1 FusedClassifierHead nodes, nothing left to fuse: 12 -> 12 nodes/);
    assert.doesNotMatch(r.stdout + r.stderr, /no ConvNeXt or ConvFirst block/);
    const report = JSON.parse(readFileSync(join(again, 'conversion-report.json'), 'utf8'));
    assert.deepEqual(report.alreadyFused, { FusedConvNeXtBlock: 5, FusedPatchConv: 4, FusedClassifierHead: 1 });
    assert.equal(report.blocks.total, 0);
    assert.deepEqual(JSON.parse(readFileSync(join(first, 'conversion-report.json'), 'utf8')).alreadyFused, {});
  });
});

describe('convert: file errors name the file', () => {
  it('a model.json that is null or not an object', async () => {
    for (const [name, text, got] of [['null', 'null', 'null'], ['array', '[1]', 'an array'], ['number', '42', 'number']]) {
      const dir = join(work, `json-${name}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'model.json'), text);
      const r = await runIn([join(dir, 'model.json'), join(work, `json-${name}-out`)]);
      assert.equal(r.code, 1, name);
      assert.match(r.stderr, new RegExp(`model\\.json is not a GraphModel \\(expected an object with modelTopology.*got ${got}\\)`));
      assert.doesNotMatch(r.stderr, /Cannot read properties|    at /, 'no raw TypeError or stack');
    }
  });

  it('a truncated shard: the shard file, its size and the size the manifest needs', async () => {
    const dir = kerasCopy('trunc');
    const shard = join(dir, 'group1-shard1of1.bin');
    const want = readFileSync(shard).byteLength;
    truncateSync(shard, 434);
    const r = await runIn([dir, join(work, 'trunc-out')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`weight shard group1-shard1of1\\.bin is truncated: 434 bytes, but model\\.json's weightsManifest needs ${want}`));
  });

  it('a missing shard is "listed in model.json, not found next to it"', async () => {
    const dir = kerasCopy('missing');
    rmSync(join(dir, 'group1-shard1of1.bin'));
    const r = await runIn([dir, join(work, 'missing-out')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /weight shard group1-shard1of1\.bin listed in model\.json is missing: not found next to it/);
  });

  it('a malformed weight entry, quantization, shard path, node or attribute is named (exit 1), not a TypeError, DOMException or garbage weights', async () => {
    type Mj = TfjsModelJson & { modelTopology: { node: { name: string; op: string; attr?: Record<string, unknown> }[] } };
    const cases: [string, (mj: Mj) => void, RegExp][] = [
      ['no-shape', (mj) => { delete (mj.weightsManifest![0].weights[0] as Partial<TfjsWeightEntry>).shape; },
        /model\.json's weightsManifest: weight #0 '[^']+' has shape undefined, not a list of non-negative integers/],
      ['null-weight', (mj) => { (mj.weightsManifest![0].weights as unknown[])[1] = null; },
        /weightsManifest: weight #1 is null, not a \{ name, shape, dtype \} weight/],
      ['path-number', (mj) => { (mj.weightsManifest![0].paths as unknown[]) = [5]; }, /weightsManifest lists a shard path 5, not a file name/],
      ['null-node', (mj) => { (mj.modelTopology.node as unknown[])[3] = null; }, /model\.json's modelTopology: node #3 is null, not a node/],
      ['int4-quantized', (mj) => { mj.weightsManifest![0].weights[0].quantization = { dtype: 'int4', scale: 1, min: 0 }; },
        /weight '[^']+' is quantized as "int4", which TF\.js does not read \(uint8, uint16 or float16\)/],
      ['bad-base64', (mj) => { mj.modelTopology.node.find((n) => n.attr?.padding)!.attr!.padding = { s: '%%%' }; },
        /node '[^']+' \(_FusedConv2D\): attribute padding \{"s":"%%%"\} cannot be decoded/],
    ];
    for (const [name, edit, message] of cases) {
      const dir = kerasCopy(`malformed-${name}`, edit as (mj: unknown) => void);
      const r = await runIn([dir, join(work, `malformed-${name}-out`)]);
      assert.equal(r.code, 1, name);
      assert.match(r.stderr, message, name);
    }
  });

  it('a shard path outside the model\'s folder (../x.bin, absolute) is refused, even when that file fits the manifest', async () => {
    const shard = readFileSync(join(kerasDir, 'group1-shard1of1.bin'));
    const outside = join(work, 'outside.bin');
    writeFileSync(outside, shard); // the right size: only the path can be refused
    for (const [name, path] of [['climbs', '../outside.bin'], ['absolute', outside]] as const) {
      const dir = kerasCopy(`shard-${name}`, (mj) => { mj.weightsManifest![0].paths = [path]; });
      const r = await runIn([dir, join(work, `shard-${name}-out`)]);
      assert.equal(r.code, 1, `${name}: ${r.stderr}`);
      assert.ok(r.stderr.includes(`weight shard ${path} listed in ${join(dir, 'model.json')} is outside the model's folder`), r.stderr);
      assert.equal(existsSync(join(work, `shard-${name}-out`)), false);
    }
  });

  it('a weight group without shard files, or a shard listed twice: said so, not "weight shard undefined is undefined bytes"', async () => {
    const cases: [string, (mj: TfjsModelJson) => void, RegExp][] = [
      ['no-paths', (mj) => { mj.weightsManifest![0].paths = []; },
        /model\.json's weightsManifest lists \d+ bytes of weights in a group without shard files/],
      ['listed-twice', (mj) => { mj.weightsManifest![0].paths.push(mj.weightsManifest![0].paths[0]); },
        /weight shards group1-shard1of1\.bin, group1-shard1of1\.bin hold \d+ bytes, but model\.json's weightsManifest describes \d+: they do not belong/],
    ];
    for (const [name, edit, message] of cases) {
      const r = await runIn([kerasCopy(`groups-${name}`, edit as (mj: unknown) => void), join(work, `groups-${name}-out`)]);
      assert.equal(r.code, 1, name);
      assert.match(r.stderr, message, name);
      assert.doesNotMatch(r.stderr, /undefined|NaN/, name);
    }
  });

  it('a shard of another model (too long) and a bad weightsManifest', async () => {
    const long = kerasCopy('long');
    writeFileSync(join(long, 'group1-shard1of1.bin'), Buffer.concat([readFileSync(join(long, 'group1-shard1of1.bin')), Buffer.alloc(8)]));
    const r = await runIn([long, join(work, 'long-out')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /weight shard group1-shard1of1\.bin is \d+ bytes, but model\.json's weightsManifest describes \d+: the shard does not belong/);
    const bad = kerasCopy('badmanifest', (mj) => ({ ...mj, weightsManifest: { paths: 'x' } }));
    const b = await runIn([bad, join(work, 'bad-out')]);
    assert.equal(b.code, 1);
    assert.match(b.stderr, /weightsManifest is not a list of \{ paths, weights \} groups/);
  });
});

describe('convert: log', () => {
  it('--verify: no tfjs "running in Node.js" banner, and the log follows what happens (encode, verify, write)', () => {
    const out = join(work, 'log-out');
    const r = cli([onnxFixture, out, '--verify']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /looks like you are running TensorFlow\.js in Node\.js/);
    assert.doesNotMatch(r.stderr, /writing GraphModel/, 'no "writing" before verification');
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('[convert]'));
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    assert.ok(at(/encoding the GraphModel/) >= 0 && at(/encoding/) < at(/verifying/) && at(/verifying/) < at(/writing /), lines.join('\n'));
    // --verify's own steps (tens of seconds on a large model) are shown as they start.
    assert.ok(at(/verifying/) < at(/verify: running the unfused graph \(\d+ nodes\) on cpu/) &&
      at(/verify: running the unfused/) < at(/verify: running the fused graph/) &&
      at(/verify: running the fused/) < at(/verify: comparing 1 output/) && at(/verify: comparing/) < at(/writing /), lines.join('\n'));
    assert.match(r.stdout, /verify \(seed 1234, cpu\)/);
  });
});
