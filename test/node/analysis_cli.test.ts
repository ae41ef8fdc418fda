import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it, mock } from 'node:test';
import { parseAnalyzeArgs, resolveInputShape, run } from '../../src/cli/analyze.js';
import { parseXml } from '../support/xml.js';

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
    [['m.json', '--name', 'x'], /--name 'x' is not followed by a model\.json/],
    [['m.json', '--warmup', '-1'], /--warmup must be an integer >= 0/],
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
  });

  it('names models after their folder, made unique', () => {
    const a = parseAnalyzeArgs([B1, B1, '--name', 'mine', DYN]);
    assert.deepEqual(a.models.map((m) => m.name), ['keras_convnext_tiny16_b1', 'keras_convnext_tiny16_b1 (2)', 'mine']);
  });
});

describe('analyze CLI: runs', () => {
  it('a missing model file exits 1 naming it', async () => {
    const r = await cli(['/nonexistent/model.json', '--backend', 'cpu', ...PEAKS, '--out', tempDir()]);
    assert.equal(r.code, 1);
    assert.match(r.err, /cannot read \/nonexistent\/model\.json: ENOENT/);
  });

  it('a file that is not a model.json exits 1', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'model.json'), '{"format": "nothing"}');
    const r = await cli([join(d, 'model.json'), '--backend', 'cpu', ...PEAKS, '--out', d]);
    assert.equal(r.code, 1);
    assert.match(r.err, /has no modelTopology/);
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
