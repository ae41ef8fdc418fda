// The single test command: typecheck, build, node tests, karma (browser) tests. Prints one closing line
// `N passed, N failed` summing every suite, and exits non-zero on any failure.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv.slice(2); // optional: suites to run (typecheck build node karma smoke)
const STAGES = ['typecheck', 'build', 'node', 'karma', 'smoke'];
const unknown = only.filter((s) => !STAGES.includes(s));
if (unknown.length > 0) {
  console.error(`unknown stage(s) ${unknown.join(', ')}: choose from ${STAGES.join(', ')} (none = all)`);
  process.exit(2);
}
const want = (s) => only.length === 0 || only.includes(s);
let passed = 0;
let failed = 0;
let skipped = 0;

function run(cmd, args, { env = {}, capture = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; if (!capture) process.stdout.write(d); });
    child.stderr.on('data', (d) => { process.stderr.write(d); });
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

function step(name, ok) {
  if (ok) passed++; else failed++;
  console.log(`[${ok ? 'ok' : 'FAILED'}] ${name}`);
}

const tmp = join(root, '.tmp');
mkdirSync(tmp, { recursive: true });

if (want('typecheck')) step('typecheck (tsc --noEmit)', (await run('npx', ['tsc', '-p', 'tsconfig.json'])).code === 0);
if (want('build')) step('build (tsc -p tsconfig.build.json)', (await run('npx', ['tsc', '-p', 'tsconfig.build.json'])).code === 0);

if (want('node')) {
  const dir = join(root, 'test/node');
  const files = readdirSync(dir).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join('test/node', f));
  const { code, out } = await run('node', ['--import', 'tsx', '--test', '--test-reporter=spec',
    '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${join(tmp, 'node-tap.txt')}`,
    ...files], { env: { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' } });
  const tap = readFileSync(join(tmp, 'node-tap.txt'), 'utf8');
  const count = (k) => Number((tap.match(new RegExp(`^# ${k} (\\d+)$`, 'm')) ?? [0, 0])[1]);
  passed += count('pass');
  failed += count('fail') + count('cancelled');
  skipped += count('skipped');
  if (code !== 0 && count('fail') + count('cancelled') === 0) step('node test runner exited cleanly', false);
  void out;
}

if (want('karma')) {
  const summary = join(tmp, 'karma-summary.json');
  rmSync(summary, { force: true });
  const { code } = await run('npx', ['karma', 'start', 'karma.conf.js', '--single-run']);
  if (existsSync(summary)) {
    const s = JSON.parse(readFileSync(summary, 'utf8'));
    passed += s.success;
    failed += s.failed + (s.error ? 1 : 0);
    skipped += s.skipped;
    if (code !== 0 && s.failed === 0 && !s.error) step('karma exited cleanly', false);
  } else {
    step('karma produced a summary', false);
  }
}

// Smoke runs of every benchmark on the software renderers: they must run end to end and write their JSON;
// their timings mean nothing here (SwiftShader), so nothing is asserted about them.
if (want('smoke')) {
  const smokes = [
    ['bench (WebGPU blocks, --smoke)', ['run', 'bench', '--', '--smoke', '--json', join(tmp, 'bench-smoke.json')]],
    ['bench:models (--smoke)', ['run', 'bench:models', '--', '--smoke', '--json', join(tmp, 'bench-models-smoke.json')]],
    ['bench:webgl (small shapes)', ['run', 'bench:webgl', '--', '--shapes', '8x16,5x32', '--samples', '1', '--chain', '1',
      '--json', join(tmp, 'bench-webgl-smoke.json')]],
    ['analyze:models (--smoke)', ['run', 'analyze:models', '--', '--smoke', '--out', join(tmp, 'analysis-smoke')]],
    ['bench:patch-conv (--smoke)', ['run', 'bench:patch-conv', '--', '--smoke', '--json', join(tmp, 'patch-conv-smoke.json')]],
    ['bench:gemm-probe (--smoke)', ['run', 'bench:gemm-probe', '--', '--smoke', '--json', join(tmp, 'gemm-probe-smoke.json')]],
    ['bench:dwconv-probe (--smoke)', ['run', 'bench:dwconv-probe', '--', '--smoke', '--json', join(tmp, 'dwconv-probe-smoke.json')]],
  ];
  for (const [name, args] of smokes) {
    const { code, out } = await run('npm', args, { capture: true });
    const ok = code === 0;
    if (!ok) console.log(out.slice(-4000));
    step(`smoke: ${name}`, ok);
  }
}

console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
