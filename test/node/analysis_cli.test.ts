import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, it, mock } from 'node:test';
import { parseAnalyzeArgs, resolveInputShape, run } from '../../src/cli/analyze.js';
import { parseXml } from '../support/xml.js';
import { spawnCli } from '../support/cli.js';

const FIXTURES = new URL('../../../shared/fixtures/tfjs/', import.meta.url).pathname;
const B1 = join(FIXTURES, 'keras_convnext_tiny16_b1/model.json');
const DYN = join(FIXTURES, 'keras_convnext_tiny16_dyn/model.json');
const PEAKS = ['--peak-tflops', '0.01', '--bandwidth-gbps', '5'];

/** Runs the command with console output captured. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = mock.method(console, 'log', (...a: unknown[]) => { out.push(a.join(' ')); });
  const error = mock.method(console, 'error', (...a: unknown[]) => { err.push(a.join(' ')); });
  const warn = mock.method(console, 'warn', () => {});
  try {
    const code = await run(args);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mock.restore();
    error.mock.restore();
    warn.mock.restore();
  }
}

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'analyze-cli-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  while (dirs.length > 0) rmSync(dirs.pop()!, { recursive: true, force: true });
});

describe('analyze CLI: usage errors exit 2 and name the problem', () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /no model\.json given/],
    [['m.json', '--bogus'], /unknown option '--bogus'/],
    [['m.json', '--batch', '0'], /--batch must be a positive integer, got '0'/],
    [['m.json', '--batch', '1.5'], /--batch must be a positive integer/],
    [['m.json', '--batch'], /--batch needs a value/],
    [['m.json', '--input-size', 'x'], /--input-size must be a positive integer/],
    [['m.json', '--backend', 'webgl'], /--backend must be webgpu or cpu/],
    [['m.json', '--peak-tflops', '60'], /give both --peak-tflops and --bandwidth-gbps/],
    [['m.json', '--bandwidth-gbps', '-3', '--peak-tflops', '1'], /--bandwidth-gbps must be a positive number/],
    // Finite as typed, Infinity once in FLOP/s: refused before the backend starts, not after.
    [['m.json', '--peak-tflops', '1e300', '--bandwidth-gbps', '1'], /--peak-tflops 1e300 is too large/],
    [['m.json', '--peak-tflops', '1', '--bandwidth-gbps', '1e300'], /--bandwidth-gbps 1e300 is too large/],
    [['m.json', '--name', 'x'], /--name 'x' is not followed by a model\.json/],
    [['m.json', '--warmup', '-1'], /--warmup must be an integer >= 0/],
    [['m.json', '--ramp-ms', '-5'], /--ramp-ms must be a number >= 0, got '-5'/],
    [['m.json', '--ramp-ms=fast'], /--ramp-ms must be a number >= 0, got 'fast'/],
    [['m.json', '--batch=0'], /--batch must be a positive integer, got '0'/],
    [['m.json', '--backend=webgl'], /--backend must be webgpu or cpu, got 'webgl'/],
    [['m.json', '--overwrite=no'], /--overwrite is a switch and takes no value \(got '--overwrite=no'\)/],
    [['m.json', '--bogus=1'], /unknown option '--bogus=1'/],
    // An option where the value belongs: taken as the value before (a folder named '--overwrite'; '2' a model).
    [['m.json', '--out', '--overwrite'], /--out needs a value/],
    [['m.json', '--out', '--batch', '2'], /--out needs a value/],
    [['--name', '--out', 'x', 'm.json'], /--name needs a value/],
    [['m.json', '--warmup'], /--warmup needs a value/],
    // Given twice: the last silently won.
    [['m.json', '--batch', '1', '--batch=2'], /--batch given twice/],
    [['m.json', '--out', 'a', '--out', 'b'], /--out given twice/],
  ];
  for (const [args, message] of cases) {
    it(`${args.join(' ') || '(no arguments)'}`, async () => {
      const r = await cli(args);
      assert.equal(r.code, 2);
      assert.match(r.err, message);
      assert.match(r.err, /usage: tfjs-block-fusion analyze/);
    });
  }

  it('--help prints the usage and exits 0', async () => {
    const r = await cli(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /--peak-tflops X/);
  });
});

describe('analyze CLI: input shapes', () => {
  it('fills the batch and the spatial size, NHWC or NCHW', () => {
    assert.deepEqual(resolveInputShape([-1, 64, 64, 3], 4, null, 'x'), [4, 64, 64, 3]);
    assert.deepEqual(resolveInputShape([-1, -1, -1, 3], 2, 224, 'x'), [2, 224, 224, 3]);
    assert.deepEqual(resolveInputShape([-1, 3, -1, -1], 1, 32, 'x'), [1, 3, 32, 32]);
    assert.throws(() => resolveInputShape([-1, -1, -1, 3], 1, null, 'x'), /unknown dims \[1, \?, \?, 3\]: pass --input-size/);
    assert.throws(() => resolveInputShape([-1, 10], 1, 32, 'x'), /--input-size needs a 4-D image input/);
    // Not V8's bare 'Invalid typed array length: 1228800000000000' after the backend started.
    assert.throws(() => resolveInputShape([-1, 64, 64, 3], 1e11, null, 'x'),
      /the input \[100000000000, 64, 64, 3\] has 1228800000000000 elements, more than one tensor can hold/);
    // No --batch: the model's own fixed batch (a PyTorch export at batch 2), or 1 for a dynamic one.
    assert.deepEqual(resolveInputShape([2, 3, 64, 64], null, null, 'x'), [2, 3, 64, 64]);
    assert.deepEqual(resolveInputShape([-1, 64, 64, 3], null, null, 'x'), [1, 64, 64, 3]);
    assert.equal(parseAnalyzeArgs([B1]).batch, null);
  });

  it('a model exported at a fixed batch of 2 runs at it without --batch', async () => {
    const d = tempDir();
    const fixed = join(d, 'fixed_batch_2');
    cpSync(dirname(DYN), fixed, { recursive: true });
    type Dims = { dim: Array<{ size: string }> };
    const json = JSON.parse(readFileSync(join(fixed, 'model.json'), 'utf8')) as {
      modelTopology: { node: Array<{ op: string; attr: { shape: { shape: Dims } } }> };
      signature: { inputs: Record<string, { tensorShape: Dims }> } };
    const declared = [json.modelTopology.node.find((n) => n.op === 'Placeholder')!.attr.shape.shape,
      ...Object.values(json.signature.inputs).map((i) => i.tensorShape)];
    for (const shape of declared) {
      assert.equal(shape.dim[0].size, '-1', 'the fixture declares a dynamic batch');
      shape.dim[0].size = '2';
    }
    writeFileSync(join(fixed, 'model.json'), JSON.stringify(json));
    const r = await cli([fixed, '--backend', 'cpu', ...PEAKS, '--repeats', '1', '--out', join(d, 'out')]);
    assert.equal(r.code, 0, r.err);
    const report = JSON.parse(readFileSync(join(d, 'out', 'analysis.json'), 'utf8'));
    assert.deepEqual(report.models[0].inputShape, [2, 64, 64, 3]);
  });

  it('names models after their folder, made unique; a folder given for its model.json too', () => {
    const a = parseAnalyzeArgs([B1, B1, '--name', 'mine', DYN, dirname(DYN)]);
    assert.deepEqual(a.models.map((m) => m.name),
      ['keras_convnext_tiny16_b1', 'keras_convnext_tiny16_b1 (2)', 'mine', 'keras_convnext_tiny16_dyn']);
    // --name is per model: repeating it is no duplicate.
    assert.deepEqual(parseAnalyzeArgs(['--name', 'a', B1, '--name=b', DYN]).models.map((m) => m.name), ['a', 'b']);
  });

  it('takes --flag=value as convert and model do', () => {
    const a = parseAnalyzeArgs([B1, '--batch=2', '--input-size=32', '--backend=cpu', '--repeats=2', '--warmup=0',
      '--ramp-ms=50', '--peak-tflops=1', '--bandwidth-gbps=2', '--out=o', '--name=n', DYN, '--overwrite']);
    assert.deepEqual({ ...a, models: a.models.map((m) => m.name) }, {
      models: ['keras_convnext_tiny16_b1', 'n'], batch: 2, inputSize: 32, backend: 'cpu', peakTflops: 1, bandwidthGBps: 2,
      repeats: 2, warmup: 0, rampMs: 50, out: 'o', overwrite: true,
    });
    assert.equal(parseAnalyzeArgs([B1]).rampMs, null, "no --ramp-ms: the profiler's default for the backend");
  });
});

describe('analyze CLI: runs', () => {
  it('a missing model file exits 1 naming it', async () => {
    const r = await cli(['/nonexistent/model.json', '--backend', 'cpu', ...PEAKS, '--out', tempDir()]);
    assert.equal(r.code, 1);
    assert.match(r.err, /input \/nonexistent\/model\.json does not exist/);
  });

  it('a file that is not a model.json exits 1', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'model.json'), '{"format": "nothing"}');
    const r = await cli([join(d, 'model.json'), '--backend', 'cpu', ...PEAKS, '--out', d]);
    assert.equal(r.code, 1);
    assert.match(r.err, /has no modelTopology/);
  });

  it('bad model inputs fail (exit 1) before the backend starts, naming the file and the problem', async () => {
    const d = tempDir();
    const onnx = join(FIXTURES, '..', 'onnx', 'convfirst_c32_gw8_op17.onnx');
    const trunc = join(d, 'trunc');
    cpSync(dirname(B1), trunc, { recursive: true });
    truncateSync(join(trunc, 'group1-shard1of1.bin'), 434);
    const missing = join(d, 'missing');
    cpSync(dirname(B1), missing, { recursive: true });
    rmSync(join(missing, 'group1-shard1of1.bin'));
    mkdirSync(join(d, 'null'));
    writeFileSync(join(d, 'null', 'model.json'), 'null');
    const cases: Array<[string, RegExp]> = [
      [onnx, /convfirst_c32_gw8_op17\.onnx is not a TF\.js model\.json \(it is an ONNX model\): .*convert it first: tfjs-block-fusion convert /],
      [trunc, /weight shard group1-shard1of1\.bin is truncated: 434 bytes, but model\.json's weightsManifest needs \d+/],
      [missing, /weight shard group1-shard1of1\.bin listed in model\.json is missing: not found next to it/],
      [join(d, 'null'), /model\.json is not a GraphModel \(expected an object with modelTopology.*got null\)/],
      [d, /is a directory without model\.json/],
    ];
    for (const [input, message] of cases) {
      // B1 first: a good model before the bad one must not be profiled first.
      const r = await cli([B1, input, '--backend', 'cpu', ...PEAKS, '--out', join(d, 'out')]);
      assert.equal(r.code, 1, input);
      assert.match(r.err, message);
      assert.doesNotMatch(r.err, /\[analyze\] (backend|loading|peaks)|Based on the provided shape|ENOENT|Cannot read properties/, input);
    }
    assert.equal(existsSync(join(d, 'out')), false);
  });

  it('a model.json tfjs-converter cannot load (no weightsManifest, no versions) exits 1 naming the file', async () => {
    const d = tempDir();
    const json = JSON.parse(readFileSync(B1, 'utf8')) as { modelTopology: { versions?: unknown }; weightsManifest?: unknown };
    const noManifest = join(d, 'no_manifest');
    mkdirSync(noManifest);
    writeFileSync(join(noManifest, 'model.json'), JSON.stringify({ modelTopology: { node: [] } }));
    const noVersions = join(d, 'no_versions');
    cpSync(dirname(B1), noVersions, { recursive: true });
    delete json.modelTopology.versions;
    writeFileSync(join(noVersions, 'model.json'), JSON.stringify(json));
    for (const input of [noManifest, noVersions]) {
      const r = await cli([input, '--backend', 'cpu', ...PEAKS, '--out', join(d, 'out')]);
      assert.equal(r.code, 1, input);
      assert.match(r.err, new RegExp(`${join(input, 'model.json')}: tfjs-converter cannot load this model\\.json`));
      assert.doesNotMatch(r.err, /tfjs-block-fusion analyze: (undefined is not|Cannot read properties)/);
    }
  });

  it('--out: a file is refused before any work; an earlier run\'s output needs --overwrite', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'file'), 'x');
    const f = await cli([B1, '--backend', 'cpu', ...PEAKS, '--out', join(d, 'file')]);
    assert.equal(f.code, 1);
    assert.match(f.err, /--out .*file exists and is not a directory/);
    assert.doesNotMatch(f.err, /\[analyze\] (backend|loading|peaks|.*profil)/, 'refused before any work');
    // Under a file: the mkdir failed (ENOTDIR) only after every model was profiled.
    const under = await cli([B1, '--backend', 'cpu', ...PEAKS, '--out', join(d, 'file', 'out')]);
    assert.equal(under.code, 1);
    assert.match(under.err, /--out .*file[\\/]out cannot be written: .*file is a file, not a folder/);
    assert.doesNotMatch(under.err, /\[analyze\] (backend|loading|peaks|.*profil)/, 'refused before any work');
    const out = join(d, 'out');
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'mine');
    const args = [dirname(B1), '--backend=cpu', ...PEAKS, '--repeats=1', '--warmup=0', `--out=${out}`];
    const first = await cli(args);
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /^keras_convnext_tiny16_b1: \d+ kernels/m, 'a folder is analyzed as its model.json, named after it');
    writeFileSync(join(out, 'analysis.json'), 'earlier');
    const again = await cli(args);
    assert.equal(again.code, 1);
    assert.match(again.err, /already holds analysis\.json, efficiency_gap\.svg, waterline\.svg, roofline\.svg from an earlier run \(pass --overwrite/);
    assert.doesNotMatch(again.err, /\[analyze\] (backend|loading|peaks)/);
    assert.equal(readFileSync(join(out, 'analysis.json'), 'utf8'), 'earlier', 'left alone');
    const over = await cli([...args, '--overwrite']);
    assert.equal(over.code, 0, over.err);
    assert.match(readFileSync(join(out, 'analysis.json'), 'utf8'), /tfjs-block-fusion analyze/);
    assert.equal(readFileSync(join(out, 'notes.txt'), 'utf8'), 'mine', 'other files are never touched');
  });

  it('--backend cpu prints no tfjs "running in Node.js" banner (a fresh process)', () => {
    const d = tempDir();
    const r = spawnCli(['analyze', B1, '--backend', 'cpu', ...PEAKS, '--repeats', '1', '--warmup', '0', '--out', join(d, 'out')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\[analyze\] backend cpu ready/);
    assert.doesNotMatch(r.stderr, /looks like you are running TensorFlow\.js in Node\.js/);
  });

  it('webgpu without a Vulkan driver: one message with the fix, no tfjs or Dawn stack trace (a fresh process)', () => {
    const r = spawnCli(['analyze', B1, ...PEAKS, '--out', join(tempDir(), 'out')], { VK_ICD_FILENAMES: '/nonexistent.json' });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /backend webgpu failed to initialise: no Vulkan driver at VK_ICD_FILENAMES=\/nonexistent\.json .*or use --backend cpu/);
    assert.doesNotMatch(r.stderr, /TypeError|Initialization of backend|\n\s+at /);
  });

  it('--ramp-ms reaches the profiler (a ramp before each profiled run, on cpu too when asked)', async () => {
    const r = await cli([B1, '--backend', 'cpu', ...PEAKS, '--repeats', '2', '--warmup', '0', '--ramp-ms', '20', '--out', tempDir()]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /clock ramp 20 ms before profiled run 1\/2[\s\S]*clock ramp 20 ms before profiled run 2\/2/);
  });

  it('a batch the model does not take is a usage error', async () => {
    const r = await cli([B1, '--batch', '2', '--backend', 'cpu', ...PEAKS, '--out', tempDir()]);
    assert.equal(r.code, 2);
    assert.match(r.err, /does not fit the model's input 'inputs' \[1, 64, 64, 3\]/);
  });

  it('two fixture models on cpu: analysis.json and three well-formed SVGs', async () => {
    const out = join(tempDir(), 'nested', 'out');
    const r = await cli([B1, '--name', 'dynamic batch 2', DYN, '--batch', '1', '--backend', 'cpu', ...PEAKS,
      '--repeats', '1', '--warmup', '0', '--out', out]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /\[analyze\] keras_convnext_tiny16_b1: profiled run 1\/1/);
    assert.doesNotMatch(r.err, /clock ramp/, 'no ramp on cpu by default');
    const report = JSON.parse(readFileSync(join(out, 'analysis.json'), 'utf8'));
    assert.equal(report.tool, 'tfjs-block-fusion analyze');
    assert.deepEqual(report.models.map((m: { name: string }) => m.name), ['keras_convnext_tiny16_b1', 'dynamic batch 2']);
    assert.equal(report.peaks.source, 'user');
    assert.equal(report.peaks.flopsPerSecond, 1e10);
    for (const m of report.models) {
      assert.deepEqual(m.inputShape, [1, 64, 64, 3]);
      assert.equal(m.timing, 'wall');
      assert.ok(m.totals.flops > 0 && m.params > 0);
    }
    assert.deepEqual(report.figures, { efficiencyGap: 'efficiency_gap.svg', waterline: 'waterline.svg', roofline: 'roofline.svg' });
    for (const f of Object.values(report.figures) as string[]) {
      assert.ok(existsSync(join(out, f)));
      const svg = readFileSync(join(out, f), 'utf8');
      parseXml(svg);
      assert.match(svg, /data-series="dynamic batch 2\//);
    }
    assert.match(r.out, /keras_convnext_tiny16_b1: \d+ kernels, [\d.]+ GFLOP/);
  });
});
