/**
 * The bench/ entry scripts' command lines (bench/support/args.ts, bench/support/bench_args.ts): --help, unknown
 * options, missing values and unknown list keys end a script at once (spawned here: each run must finish in
 * seconds, before any device work), and the CI smoke invocations of scripts/test.mjs parse (parse-only: no
 * benchmark runs here).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ArgsError, type ArgsSpec, type BenchCommand, formatUsage, parseArgs, parseBenchArgs } from '../../bench/support/args.js';
import { ANALYZE_MODELS_COMMAND, type GpuArgs, DWCONV_PROBE_COMMAND, GEMM_PROBE_COMMAND, GPU_COMMAND, MODELS_COMMAND, MODELS_TABLE_COMMAND, MRT_PROBE_COMMAND,
  parseGpuArgs, parseModelsArgs, parsePatchConvArgs, parseProfileSummaryArgs, parseWebGLArgs, PATCH_CONV_COMMAND,
  PROFILE_SUMMARY_COMMAND, WEBGL_COMMAND } from '../../bench/support/bench_args.js';
import { writeJsonFile } from '../../bench/support/json_output.js';
import { ALL_CONFIGS } from '../../bench/support/model_configs.js';
import { SWEEP_VARIANT_NAMES, sweepPlan } from '../../bench/support/sweep_variants.js';

const repo = new URL('../..', import.meta.url).pathname;

interface Script {
  /** Entry file, relative to the repository root. */
  file: string;
  /** The options the script reads (its argv uses); its usage must name each. */
  flags: string[];
  /** Options its header comment names that belong to another script. */
  headerIgnore?: string[];
}

const SCRIPTS: Script[] = [
  { file: 'bench/gpu.ts', flags: ['--json', '--smoke', '--split', '--sweep', '--sweep-ops', '--sweep-only', '--sweep-batch'] },
  { file: 'bench/models.ts', flags: ['--json', '--cpu-profile', '--dispatches', '--smoke', '--configs', '--dawn-enable',
    '--dawn-disable'] },
  { file: 'bench/patch_conv.ts', flags: ['--json', '--smoke', '--sweep', '--splitk', '--batches', '--splits',
    '--gemm-splits', '--gemm-tiles', '--rounds', '--shapes'] },
  { file: 'bench/gemm_probe.ts', flags: ['--smoke', '--json'] },
  { file: 'bench/dwconv_probe.ts', flags: ['--smoke', '--json'] },
  { file: 'bench/analyze_models.ts', flags: ['--variant', '--input-size', '--batch', '--out', '--smoke'] },
  { file: 'bench/analyze_device.ts', flags: ['--batch', '--input-size', '--backend', '--name', '--out'] },
  { file: 'bench/models_table.ts', flags: ['--backend', '--size'] },
  { file: 'bench/profile_summary.ts', flags: ['--top'], headerIgnore: ['--cpu-profile'] },
  { file: 'bench/webgl/run.ts', flags: ['--shapes', '--kinds', '--chain', '--samples', '--expand', '--project', '--passes',
    '--json'] },
  { file: 'bench/webgl/mrt_probe.ts', flags: ['--mkn', '--variants', '--reps', '--samples'] },
];

/** Each script's command (bench/analyze_device.ts is the `tfjs-block-fusion analyze` CLI, src/cli/analyze.ts). */
const COMMANDS: Record<string, BenchCommand<unknown>> = {
  'bench/gpu.ts': GPU_COMMAND, 'bench/models.ts': MODELS_COMMAND, 'bench/patch_conv.ts': PATCH_CONV_COMMAND,
  'bench/gemm_probe.ts': GEMM_PROBE_COMMAND, 'bench/dwconv_probe.ts': DWCONV_PROBE_COMMAND,
  'bench/analyze_models.ts': ANALYZE_MODELS_COMMAND,
  'bench/models_table.ts': MODELS_TABLE_COMMAND, 'bench/profile_summary.ts': PROFILE_SUMMARY_COMMAND,
  'bench/webgl/run.ts': WEBGL_COMMAND, 'bench/webgl/mrt_probe.ts': MRT_PROBE_COMMAND,
};

/** A run that gets past its argument check would load a backend and print this line (describeDevice). */
const DEVICE_LINE = /^device: /m;
/** Seconds a run may take: a node + tsx start and the check (a benchmark takes minutes). */
const QUICK_S = 20;

function runScript(file: string, args: string[]) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repo, file), ...args],
    { encoding: 'utf8', cwd: repo, env: { ...process.env, XDG_RUNTIME_DIR: '/tmp' }, timeout: 2 * QUICK_S * 1000 });
  const seconds = (performance.now() - t0) / 1000;
  assert.ok(seconds < QUICK_S, `${file} ${args.join(' ')} took ${seconds.toFixed(1)} s (a benchmark started?)`);
  assert.doesNotMatch(r.stdout + r.stderr, DEVICE_LINE, `${file} ${args.join(' ')} reached the device`);
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** The flags the script's header comment (its first doc comment) names. */
function headerFlags(file: string): string[] {
  const text = readFileSync(join(repo, file), 'utf8');
  const header = text.slice(text.indexOf('/**'), text.indexOf('*/') + 2);
  return [...new Set(header.match(/--[a-z][a-z0-9-]*/g) ?? [])];
}

describe('bench entry scripts: --help and unknown options, before any device work', () => {
  it('the table above covers every entry script in bench/ and bench/webgl/', () => {
    const entries = [...readdirSync(join(repo, 'bench')).filter((f) => f.endsWith('.ts')).map((f) => `bench/${f}`),
      ...readdirSync(join(repo, 'bench/webgl')).filter((f) => f.endsWith('.ts') && !f.endsWith('page.ts'))
        .map((f) => `bench/webgl/${f}`)];
    assert.deepEqual(entries.sort(), SCRIPTS.map((s) => s.file).sort());
  });

  for (const s of SCRIPTS) {
    describe(s.file, () => {
      it('--help: the usage with its options on stdout, exit 0', () => {
        const r = runScript(s.file, ['--help']);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^usage: /);
        for (const flag of s.flags) assert.ok(r.stdout.includes(flag), `usage does not mention ${flag}`);
        const ignore = new Set(s.headerIgnore ?? []);
        for (const flag of headerFlags(s.file).filter((f) => !ignore.has(f))) {
          assert.ok(r.stdout.includes(flag), `the header comment names ${flag}; the usage does not`);
        }
      });
      it('-h: the same usage', () => {
        const r = runScript(s.file, ['-h']);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^usage: /);
      });
      it('an unknown option (--jsn out.json): named on stderr with the usage, exit 2', () => {
        const r = runScript(s.file, ['--jsn', 'out.json']);
        assert.equal(r.code, 2, `exit ${r.code} ${r.signal ?? ''}: ${r.stderr}`);
        assert.match(r.stderr, /unknown option '?--jsn/);
        assert.match(r.stderr, /usage: /);
        assert.equal(r.stdout, '');
      });
    });
  }

  it('bench:models --configs stock,fusd: the key named, the valid keys listed, exit 2', () => {
    const r = runScript('bench/models.ts', ['--smoke', '--configs', 'stock,fusd']);
    assert.equal(r.code, 2, r.stderr);
    const line = r.stderr.split('\n')[0];
    assert.match(line, /^bench\/models\.ts: unknown --configs key 'fusd' \(valid: stock, fused, /);
    for (const c of ALL_CONFIGS) assert.ok(line.includes(c.key), `valid keys omit ${c.key}`);
  });
  it('bench:models --configs with no value: a usage error, not a TypeError', () => {
    const r = runScript('bench/models.ts', ['--configs']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--configs needs a value/);
    assert.doesNotMatch(r.stderr, /TypeError/);
  });
  it('bench --json with no file: refused instead of running and dropping the results', () => {
    const r = runScript('bench/gpu.ts', ['--smoke', '--json']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--json needs a value \(FILE\)/);
  });
  it('bench --json naming a folder: refused before the run, not an EISDIR after it', () => {
    const r = runScript('bench/gpu.ts', ['--smoke', '--json', 'bench']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--json: is a folder; expected a file path; got 'bench'/);
  });
  it('bench --sweep --sweep-only with an unknown variant name: named, exit 2', () => {
    const r = runScript('bench/gpu.ts', ['--sweep', '--sweep-only', 'default,gemm mpl']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /unknown --sweep-only key 'gemm mpl' \(valid: 'default', 'one-dispatch', /);
  });
});

describe('the CI smoke invocations (scripts/test.mjs) parse', () => {
  const testMjs = readFileSync(join(repo, 'scripts/test.mjs'), 'utf8');
  const start = testMjs.indexOf('const smokes = [');
  const block = testMjs.slice(start, testMjs.indexOf('for (const [name, args] of smokes)', start));
  const packageScripts = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
    .scripts;
  const smokes = [...block.matchAll(/\['run', '([^']+)', '--',([\s\S]*?)\]\]/g)].map(([, npmScript, rest]) => ({
    npmScript,
    args: [...rest.matchAll(/join\(tmp, '([^']+)'\)|'([^']*)'/g)].map((m) => (m[1] != null ? `/tmp/smoke/${m[1]}` : m[2])),
  }));

  it('scripts/test.mjs has the smoke runs this test reads', () => {
    assert.ok(start >= 0, 'no smokes list in scripts/test.mjs');
    assert.ok(smokes.length >= 6, `found ${smokes.length} smoke runs`);
  });
  for (const { npmScript, args } of smokes) {
    it(`npm run ${npmScript} -- ${args.join(' ')}`, () => {
      const file = /bench\/[\w/]+\.ts/.exec(packageScripts[npmScript] ?? '')?.[0];
      assert.ok(file != null && COMMANDS[file] != null, `npm script ${npmScript} (${packageScripts[npmScript]}): no command`);
      const parsed = parseBenchArgs(COMMANDS[file], args);
      assert.notEqual(parsed, 'help');
      const json = args.indexOf('--json');
      if (json >= 0) assert.equal((parsed as { jsonFile: string | null }).jsonFile, args[json + 1]);
      if (args.includes('--smoke')) assert.equal((parsed as { smoke: boolean }).smoke, true);
    });
  }
});

describe('bench scripts: settings for valid arguments (the defaults as before)', () => {
  it('bench: defaults, the sweep options, --split', () => {
    assert.deepEqual(parseGpuArgs([]), { smoke: false, sweep: false, splitMode: false, sweepOps: ['convnext', 'convfirst'],
      sweepOnly: undefined, sweepBatch: null, jsonFile: null });
    assert.deepEqual(parseGpuArgs(['--sweep', '--sweep-ops', 'convnext', '--sweep-only', 'default,gemm proj 32x64',
      '--sweep-batch', '32', '--json', 'f.json']), { smoke: false, sweep: true, splitMode: false, sweepOps: ['convnext'],
      sweepOnly: 'default,gemm proj 32x64', sweepBatch: 32, jsonFile: 'f.json' });
    assert.equal((parseGpuArgs(['--split', '--json=f.json']) as { splitMode: boolean }).splitMode, true);
    assert.ok(SWEEP_VARIANT_NAMES.length > 100 && SWEEP_VARIANT_NAMES.every((n) => !n.includes(',')));
    assert.equal(new Set(SWEEP_VARIANT_NAMES).size, SWEEP_VARIANT_NAMES.length, 'duplicate sweep variant names');
  });
  it('bench --sweep: the plan of batches and variants; --smoke keeps --sweep-only and --sweep-batch', () => {
    const plan = (argv: string[]) => sweepPlan(parseGpuArgs(argv) as GpuArgs);
    assert.deepEqual(plan(['--sweep']), [[32, null], [1, ['default', 'one-dispatch', 'gemm-mlp']]]);
    assert.deepEqual(plan(['--sweep', '--sweep-only', 'default,gemm-mlp']), [[32, ['default', 'gemm-mlp']],
      [1, ['default', 'one-dispatch', 'gemm-mlp']]]);
    assert.deepEqual(plan(['--sweep', '--sweep-batch', '8']), [[8, null]]);
    assert.deepEqual(plan(['--sweep', '--smoke']), [[1, null]]);
    // These ran every variant at N=1.
    assert.deepEqual(plan(['--sweep', '--smoke', '--sweep-only', 'gemm-mlp']), [[1, ['gemm-mlp']]]);
    assert.deepEqual(plan(['--sweep', '--smoke', '--sweep-batch', '2', '--sweep-only', 'default']), [[2, ['default']]]);
  });
  it('bench: refused combinations and values', () => {
    assert.throws(() => parseGpuArgs(['--sweep-only', 'default']), /--sweep-only takes effect only with --sweep/);
    assert.throws(() => parseGpuArgs(['--sweep', '--sweep-batch', '0']), /--sweep-batch: expected a positive integer/);
    assert.throws(() => parseGpuArgs(['--sweep', '--sweep-ops', 'convnxt']), /unknown --sweep-ops key 'convnxt'/);
    assert.throws(() => parseGpuArgs(['--sweep', '--split']), /--split has no effect with --sweep/);
  });
  it('bench:models: defaults and --configs (stock required)', () => {
    const noToggles = { enable: [], disable: [] };
    assert.deepEqual(parseModelsArgs([]), { smoke: false, jsonFile: null, profileDir: null, configKeys: null,
      dispatches: false, dawnToggles: noToggles });
    assert.deepEqual(parseModelsArgs(['--configs', 'stock,fused,sub1k', '--dispatches', '--cpu-profile', 'p', '--json', 'o']),
      { smoke: false, jsonFile: 'o', profileDir: 'p', configKeys: ['stock', 'fused', 'sub1k'], dispatches: true,
        dawnToggles: noToggles });
    const toggled = parseModelsArgs(['--dawn-enable', 'disable_robustness,use_dxc', '--dawn-disable', 'lazy_clear_resource_on_first_use']);
    assert.ok(toggled !== 'help');
    assert.deepEqual(toggled.dawnToggles, { enable: ['disable_robustness', 'use_dxc'], disable: ['lazy_clear_resource_on_first_use'] });
    assert.throws(() => parseModelsArgs(['--dawn-enable', 'Disable-Robustness']), /--dawn-enable: expected Dawn toggle names/);
    assert.throws(() => parseModelsArgs(['--dawn-disable']), /--dawn-disable needs a value/);
    assert.throws(() => parseModelsArgs(['--configs', 'fused']), /--configs must include stock/);
    assert.throws(() => parseModelsArgs(['--configs', 'stock,']), /unknown --configs key ''/);
    assert.throws(() => parseModelsArgs(['--json', '--smoke']), /--json needs a value/);
    assert.throws(() => parseModelsArgs(['--cpu-profile']), /--cpu-profile needs a value/);
    // Failed after the first round's GPU timing (mkdir in withCpuProfile).
    assert.throws(() => parseModelsArgs(['--cpu-profile', 'package.json']), /--cpu-profile: .*package\.json is a file/);
    assert.throws(() => parseModelsArgs(['--json', 'a', '--json', 'b']), /--json given twice/);
  });
  it('docs/models.md names exactly the --configs keys', () => {
    const doc = readFileSync(join(repo, 'docs/models.md'), 'utf8');
    const list = /`--configs` runs a subset of ([^`]*?), stock first/.exec(doc)?.[1];
    assert.ok(list != null, 'docs/models.md: no "--configs runs a subset of ..." list');
    assert.deepEqual(list.split(',').map((k) => k.trim()).sort(), ALL_CONFIGS.map((c) => c.key).sort());
  });
  it('bench:patch-conv: number lists, tiles, shapes', () => {
    assert.deepEqual(parsePatchConvArgs([]), { smoke: false, sweep: false, splitK: false, jsonFile: null, batches: null,
      splits: null, gemmSplits: null, gemmTiles: null, sweepBatch: null, rounds: null, shapes: null });
    assert.deepEqual(parsePatchConvArgs(['--splitk', '--splits', '1,2', '--gemm-splits', '3', '--rounds', '2', '--batches',
      '1,32', '--shapes', 'stem,down3', '--gemm-tiles', '32x96x4x3']), { smoke: false, sweep: false, splitK: true,
      jsonFile: null, batches: [1, 32], splits: [1, 2], gemmSplits: [3], gemmTiles: ['32x96x4x3'], sweepBatch: null, rounds: 2,
      shapes: ['stem', 'down3'] });
    // --sweep runs at the largest batch, wherever it is listed.
    const sweepBatch = (argv: string[]) => (parsePatchConvArgs(argv) as { sweepBatch: number | null }).sweepBatch;
    assert.equal(sweepBatch(['--sweep', '--batches', '32,1']), 32);
    assert.equal(sweepBatch(['--sweep']), 32);
    assert.equal(sweepBatch(['--sweep', '--smoke']), 2);
    assert.throws(() => parsePatchConvArgs(['--splits', '1,2']), /--splits takes effect only with --splitk/);
    assert.throws(() => parsePatchConvArgs(['--splitk', '--shapes', 'down4']),
      /unknown --shapes key 'down4' \(valid: stem, down1, down2, down3\)/);
    assert.throws(() => parsePatchConvArgs(['--smoke', '--splitk', '--shapes', 'down2']), /not among the --smoke shapes/);
    assert.throws(() => parsePatchConvArgs(['--batches', '1,x']), /--batches: expected positive integers/);
    assert.throws(() => parsePatchConvArgs(['--splitk', '--gemm-tiles', '32x96']), /--gemm-tiles: expected tiles/);
  });
  it('bench:webgl: the defaults of before, empty --expand allowed', () => {
    assert.deepEqual(parseWebGLArgs([]), { shapes: [[56, 96], [28, 192], [14, 384], [7, 768]], kinds: ['convnext', 'convfirst'],
      chain: 3, samples: 5, expand: ['2x4'], project: ['1x1', '2x4'], passes: false, jsonFile: null });
    assert.deepEqual((parseWebGLArgs(['--expand', '']) as { expand: string[] }).expand, []);
    assert.throws(() => parseWebGLArgs(['--shapes', '56x']), /--shapes: expected HxC pairs/);
    assert.throws(() => parseWebGLArgs(['--kinds', 'convnxt']), /unknown --kinds key 'convnxt'/);
    assert.throws(() => parseWebGLArgs(['--json', '']), /--json needs a value \(FILE\), got ''/);
  });
  it('bench:webgl: what the page cannot run is refused before Chromium starts', () => {
    // The page took 3x4 and failed with a raw page.evaluate stack trace (exit 1); C = 12 failed to compile a shader.
    assert.throws(() => parseWebGLArgs(['--expand', '3x4']), /--expand: expected fragment shapes PxQ with P 1 or 2/);
    assert.throws(() => parseWebGLArgs(['--project', '1x1,4x2']), /--project: expected fragment shapes PxQ with P 1 or 2/);
    assert.throws(() => parseWebGLArgs(['--shapes', '8x16,4x12']), /--shapes 4x12: convfirst blocks need C a multiple of 8/);
    assert.deepEqual((parseWebGLArgs(['--shapes', '4x12', '--kinds', 'convnext']) as { shapes: number[][] }).shapes, [[4, 12]]);
    assert.deepEqual((parseWebGLArgs(['--expand', '1x8,2x2']) as { expand: string[] }).expand, ['1x8', '2x2']);
  });
  it('mrt_probe: b and t variants are 1x1 only (other shapes were drawn into a fraction of the output)', () => {
    const parsed = parseBenchArgs(MRT_PROBE_COMMAND, ['--variants', '1x1b,1x1t,2x4a']) as { variants: unknown[] };
    assert.deepEqual(parsed.variants, [
      { p: 1, qb: 1, arrayInput: false, branch: true, transposed: false },
      { p: 1, qb: 1, arrayInput: false, branch: false, transposed: true },
      { p: 2, qb: 4, arrayInput: true, branch: false, transposed: false }]);
    assert.throws(() => parseBenchArgs(MRT_PROBE_COMMAND, ['--variants', '1x1,2x4b,1x2t']), /--variants 2x4b,1x2t: b and t are 1x1 only/);
  });
  it('analyze:models and profile_summary', () => {
    assert.deepEqual(parseBenchArgs(ANALYZE_MODELS_COMMAND, []), { smoke: false, variant: 'tiny', inputSize: 224, batch: 1,
      out: 'bench-output/analysis' });
    assert.deepEqual(parseBenchArgs(ANALYZE_MODELS_COMMAND, ['--smoke']), { smoke: true, variant: 'atto', inputSize: 32,
      batch: 1, out: 'bench-output/analysis' });
    assert.throws(() => parseBenchArgs(ANALYZE_MODELS_COMMAND, ['--variant', 'huge']), /--variant must be one of atto, /);
    assert.throws(() => parseBenchArgs(ANALYZE_MODELS_COMMAND, ['--input-size', '100']), /multiple of 32/);
    // A file, or a path under one, failed at the end (mkdir EEXIST / ENOTDIR) after every model was profiled.
    assert.throws(() => parseBenchArgs(ANALYZE_MODELS_COMMAND, ['--out', 'package.json']), /--out: .*package\.json is a file/);
    assert.throws(() => parseBenchArgs(ANALYZE_MODELS_COMMAND, ['--out', 'package.json/a']), /--out: .*package\.json is a file/);
    assert.equal((parseBenchArgs(ANALYZE_MODELS_COMMAND, ['--out', 'no-such/folder']) as { out: string }).out, 'no-such/folder');
    const dir = mkdtempSync(join(tmpdir(), 'profiles-'));
    try {
      const [a, b] = ['a.cpuprofile', 'b.cpuprofile'].map((f) => join(dir, f));
      for (const f of [a, b]) writeFileSync(f, '{}');
      assert.deepEqual(parseProfileSummaryArgs([a, '--top', '5', b]), { files: [a, b], top: 5 });
      assert.throws(() => parseProfileSummaryArgs([a, join(dir, '*.cpuprofile')]), /no such file: .*\*\.cpuprofile/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.throws(() => parseProfileSummaryArgs(['--top', '5']), /expected FILE\.cpuprofile/);
  });
  it('profile_summary: a missing file exits 2 and a file that is no profile exits 1, each named, no stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'profiles-'));
    try {
      const missing = runScript('bench/profile_summary.ts', [join(dir, '*.cpuprofile')]);
      assert.equal(missing.code, 2, missing.stderr);
      assert.match(missing.stderr, /^bench\/profile_summary\.ts: no such file: .*\*\.cpuprofile\n/);
      const notProfile = runScript('bench/profile_summary.ts', ['package.json']);
      assert.equal(notProfile.code, 1, notProfile.stderr);
      assert.equal(notProfile.stderr.trim(), 'bench/profile_summary.ts: package.json is not a V8 CPU profile ' +
        '(.cpuprofile JSON with nodes, samples, timeDeltas)');
      const profile = join(dir, 'p.cpuprofile');
      writeFileSync(profile, JSON.stringify({ nodes: [{ id: 1, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } }],
        samples: [1, 1], timeDeltas: [1000, 1000], startTime: 0, endTime: 2000 }));
      const ok = runScript('bench/profile_summary.ts', [profile]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /p\.cpuprofile: 2\.0 ms sampled\n\s+100\.0%\s+\(idle\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bench/support/args.ts', () => {
  const spec: ArgsSpec = {
    usage: ['x [options]'], about: 'About.',
    flags: [{ name: '--on', help: 'a switch' }, { name: '--file', value: 'FILE', help: 'a value' },
      { name: '--keys', value: 'LIST', keys: ['a', 'b'], help: 'keys', requires: '--on' }],
  };
  it('switches, values (--f v and --f=v), help anywhere', () => {
    const p = parseArgs(spec, ['--on', '--file=x=y', '--keys', 'a,b']);
    assert.ok(p !== 'help');
    assert.deepEqual([...p.switches], ['--on']);
    assert.deepEqual([...p.values], [['--file', 'x=y'], ['--keys', 'a,b']]);
    assert.equal(parseArgs(spec, ['--bogus', '-h']), 'help');
  });
  it('mistakes are ArgsErrors naming the option', () => {
    const bad: [string[], RegExp][] = [
      [['--of'], /unknown option --of/], [['-x'], /unknown option -x/], [['--on=1'], /--on is a switch/],
      [['--file'], /--file needs a value/], [['--file', '--on'], /--file needs a value/],
      [['--on', '--keys', 'a,c,d'], /unknown --keys keys 'c', 'd' \(valid: a, b\)/],
      [['--keys', 'a'], /--keys takes effect only with --on/], [['stray'], /unexpected argument 'stray'/],
    ];
    for (const [argv, message] of bad) assert.throws(() => parseArgs(spec, argv), (e: unknown) => e instanceof ArgsError &&
      message.test(e.message), argv.join(' '));
  });
  it('the usage lists every option and -h, --help', () => {
    const u = formatUsage(spec);
    assert.match(u, /^usage: x \[options\]\n\nAbout\.\n\noptions:\n {2}--on {9}a switch\n {2}--file FILE {2}a value\n/);
    assert.match(u, /-h, --help/);
  });
});

describe('--json FILE (bench/support/json_output.ts)', () => {
  const jsonScripts = Object.entries(COMMANDS).filter(([, c]) => c.spec.flags.some((f) => f.name === '--json'));

  it('every script with --json refuses a folder, a path ending in /, and a path under a file', () => {
    assert.equal(jsonScripts.length, 6);
    for (const [file, command] of jsonScripts) {
      assert.throws(() => parseBenchArgs(command, ['--json', 'bench']), /--json: is a folder/, file);
      assert.throws(() => parseBenchArgs(command, ['--json=out/']), /--json: is a folder/, file);
      assert.throws(() => parseBenchArgs(command, ['--json', 'package.json/run.json']), /package\.json is a file/, file);
      // A folder that does not exist yet is fine: it is created when the results are written.
      assert.notEqual(parseBenchArgs(command, ['--json', 'no-such-folder/deeper/run.json']), 'help', file);
    }
  });
  it('writeJsonFile creates the missing folders of the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-json-'));
    try {
      const file = join(dir, 'results', 'h200', 'run.json');
      writeJsonFile(file, { rows: [1, 2] });
      assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { rows: [1, 2] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
