import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as esbuild from 'esbuild';

const root = new URL('../..', import.meta.url).pathname;

describe('package', () => {
  it('imports by name from the built dist before any backend exists, then runs the ops on cpu', {
    skip: existsSync(`${root}/dist/src/index.js`) ? false : 'dist/ not built (npm test builds it first)',
  }, () => {
    // A fresh process: the package first, the backend afterwards, as a web app might order its imports.
    const script = `
      const lib = await import('tfjs-block-fusion');
      const tf = await import('@tensorflow/tfjs-core');
      await import('@tensorflow/tfjs-backend-cpu');
      await tf.setBackend('cpu');
      const x = tf.ones([1, 3, 3, 8]);
      const y1 = lib.convnextBlock(x, { dwFilter: tf.zeros([3, 3, 8, 1]), dwBias: tf.zeros([8]), lnGamma: tf.ones([8]),
        lnBeta: tf.zeros([8]), w1: tf.zeros([8, 32]), b1: tf.zeros([32]), w2: tf.zeros([32, 8]), b2: tf.fill([8], 2) });
      const y2 = lib.convfirstBlock(x, { filter: tf.zeros([3, 3, 8, 8]), bias: tf.zeros([8]), w1: tf.zeros([8, 32]),
        b1: tf.zeros([32]), w2: tf.zeros([32, 8]), b2: tf.fill([8], -1) });
      const y3 = lib.layerNorm(tf.tensor2d([[1, 2, 3, 4]]), tf.ones([4]), tf.fill([4], 1), { epsilon: 0.75 });
      console.log(JSON.stringify({ names: [lib.FUSED_CONVNEXT_BLOCK, lib.FUSED_CONVFIRST_BLOCK, lib.FUSED_LAYER_NORM],
        y1: Array.from(await y1.data()).slice(0, 2), y2: Array.from(await y2.data()).slice(0, 2),
        y3: Array.from(await y3.data()) }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    const result = JSON.parse(out.trim().split('\n').pop()!);
    assert.deepEqual(result.names, ['FusedConvNeXtBlock', 'FusedConvFirstBlock', 'FusedLayerNorm']);
    // mean 2.5, variance 1.25 + epsilon 0.75 = 2: (x - 2.5) / sqrt(2) + 1
    result.y3.forEach((v: number, i: number) => assert.ok(Math.abs(v - ((i + 1 - 2.5) / Math.SQRT2 + 1)) < 1e-6, `y3 ${result.y3}`));
    assert.deepEqual(result.y1, [3, 3]);
    assert.deepEqual(result.y2, [0, 0]);
  });

  it('installed without the optional webgpu peer: the CLI builds a model, analyze names the package to install', {
    skip: existsSync(`${root}/dist/src/cli/main.js`) ? false : 'dist/ not built (npm test builds it first)',
  }, () => {
    // An app folder holding the built package and its required dependencies only (no webgpu).
    const app = mkdtempSync(join(tmpdir(), 'tbf-nowebgpu-'));
    try {
      const pkg = join(app, 'node_modules', 'tfjs-block-fusion');
      mkdirSync(pkg, { recursive: true });
      cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
      cpSync(join(root, 'dist'), join(pkg, 'dist'), { recursive: true });
      for (const dep of ['@tensorflow', 'protobufjs', 'long', '@protobufjs', 'seedrandom']) {
        if (existsSync(join(root, 'node_modules', dep))) symlinkSync(join(root, 'node_modules', dep), join(app, 'node_modules', dep));
      }
      const cli = (...args: string[]) => spawnSync(process.execPath, [join(pkg, 'dist/src/cli/main.js'), ...args],
        { cwd: app, encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: '/tmp' } });
      const built = cli('model', 'convnext', 'atto', join(app, 'm'), '--input-size', '32');
      assert.equal(built.status, 0, built.stderr);
      const analyzed = cli('analyze', join(app, 'm'), '--out', join(app, 'a'));
      assert.equal(analyzed.status, 1);
      assert.match(analyzed.stderr, /WebGPU in Node needs the 'webgpu' package \(Dawn\): npm install webgpu/);
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });

  it('examples/ops.mjs runs against the built package and matches the reference', {
    skip: existsSync(`${root}/dist/src/index.js`) ? false : 'dist/ not built (npm test builds it first)',
  }, () => {
    // cpu only: on SwiftShader its webgpu half takes ~15 s of CPU (the fused ops on webgpu have their own tests).
    const run = spawnSync(process.execPath, [join(root, 'examples/ops.mjs'), 'cpu'], { cwd: root, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    for (const op of ['convnextBlock', 'convfirstBlock']) {
      assert.match(run.stdout, new RegExp(`^${op} on cpu: output shape \\[1,14,14,32\\], .*max \\|fused - reference\\| `, 'm'));
    }
  });

  /**
   * Runs `body` (ES module code) in a fresh node process on the cpu backend, importing only what it imports itself
   * (never the package root unless it does); returns the JSON its last output line prints.
   */
  function freshCpuProcess<T>(body: string): T {
    const script = `
      const tf = await import('@tensorflow/tfjs-core');
      await import('@tensorflow/tfjs-backend-cpu');
      await tf.setBackend('cpu');
      ${body.trim()}`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    return JSON.parse(run.stdout.trim().split('\n').pop()!) as T;
  }

  it('the converter subpath alone verifies a conversion (no root import registering the fused graph ops)', () => {
    // A fresh process importing tfjs-block-fusion/converter (and the model builder) but never the package root.
    const result = freshCpuProcess<{ blocks: number; ops: string[]; maxRelError: number }>(`
      const { buildModelGraph } = await import('./models/network.ts');
      const { fuseBlocks, verifyConversion } = await import('./src/converter/index.ts');
      const unfused = buildModelGraph('convnext', 'atto', { fused: false, inputSize: 32, batch: 1, classes: 10 });
      const { graph, blocks } = fuseBlocks(unfused);
      const v = await verifyConversion(unfused, graph, { seed: 3 });
      console.log(JSON.stringify({ blocks: blocks.length, ops: [...new Set(graph.nodes.map((n) => n.op))], maxRelError: v.maxRelError }));`);
    assert.equal(result.blocks, 12, JSON.stringify(result));
    assert.ok(result.ops.includes('FusedPatchConv') && result.ops.includes('FusedConvNeXtBlock'), JSON.stringify(result));
    // float32 reference compositions vs stock ops through 12 blocks: rounding only.
    assert.ok(result.maxRelError < 1e-5, JSON.stringify(result));
  });

  it('the models subpath alone loads a built model that runs (loadBuiltModel registers the fused ops)', () => {
    const result = freshCpuProcess<unknown>(`
      const { loadBuiltModel } = await import('./models/index.ts');
      const model = await loadBuiltModel('convfirst', 'atto', { inputSize: 32, classes: 3 });
      const y = model.predict(tf.ones([2, 32, 32, 3]));
      console.log(JSON.stringify({ shape: y.shape, finite: (await y.data()).every(Number.isFinite) }));`);
    assert.deepEqual(result, { shape: [2, 3], finite: true });
  });

  it('the package root bundles for browsers without Node built-ins', async () => {
    const result = await esbuild.build({
      entryPoints: [`${root}/src/index.ts`], bundle: true, platform: 'browser', format: 'esm', write: false,
      metafile: true, logLevel: 'silent', external: ['@tensorflow/*'],
    });
    const inputs = Object.keys(result.metafile.inputs);
    const nodeOnly = inputs.filter((f) => /(^|\/)(node:|fs|path|child_process|url)$/.test(f) || f.startsWith('node:'));
    assert.deepEqual(nodeOnly, []);
    const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
    assert.ok(imports.every((p) => p.startsWith('@tensorflow/')), `unexpected external imports: ${imports}`);
    // No backend package: importing tfjs-backend-webgl (or -webgpu) registers that backend, so a WebGPU-only app
    // would ship and start WebGL (the WebGL kernels once imported webgl_util; src/kernels/webgl/webgl_rules.ts).
    assert.deepEqual([...new Set(imports)].sort(), ['@tensorflow/tfjs-converter', '@tensorflow/tfjs-core']);
  });
});
