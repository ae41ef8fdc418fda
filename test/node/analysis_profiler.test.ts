import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '../../src/index.js';
import { analyzeFunction, analyzeModels } from '../../src/analysis/analyze.js';
import { countModelCost, uncountedWarning } from '../../src/analysis/cost_model.js';
import { addNestedGpuTime, type KernelRecord } from '../../src/analysis/kernel_trace.js';
import { DEFAULT_GPU_RAMP_MS, profileFunction, type ProfileResult } from '../../src/analysis/profiler.js';
import { userPeaks } from '../../src/analysis/peaks.js';
import { floorMs } from '../../src/analysis/roofline.js';
import { loadGraphModelFromFile } from '../../src/node/graph_model_file.js';
import { useBackend, webgpuUnavailableReason } from '../support/node_backends.js';

const FIXTURE = new URL('../../../shared/fixtures/tfjs/keras_convnext_tiny16_b1/model.json', import.meta.url).pathname;

/** A few kernels of different kinds; the result depends on the inputs only. */
function smallNetwork(x: tf.Tensor4D, w: tf.Tensor4D, m: tf.Tensor2D) {
  return () => tf.tidy(() => {
    const c = tf.relu(tf.conv2d(x, w, 1, 'same'));
    const pooled = tf.mean(c, [1, 2]);
    return tf.add(tf.matMul(pooled, m), 1);
  });
}

function assertTotalsAreSums(p: ProfileResult): void {
  const sum = (key: 'timeMs' | 'flops' | 'bytes') => p.kernels.reduce((s, k) => s + k[key], 0);
  assert.equal(p.totals.kernels, p.kernels.length);
  assert.equal(p.totals.timeMs, sum('timeMs'));
  assert.equal(p.totals.flops, sum('flops'));
  assert.equal(p.totals.bytes, sum('bytes'));
  assert.ok(p.kernels.every((k) => Number.isFinite(k.timeMs) && k.timeMs >= 0));
}

describe('profiler on cpu', () => {
  it('totals equal the sums over kernel rows, with repeats; nothing leaks', async () => {
    await useBackend('cpu');
    const x = tf.randomNormal([1, 12, 12, 3]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 3, 8]) as tf.Tensor4D;
    const m = tf.randomNormal([8, 5]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    const p = await profileFunction(smallNetwork(x, w, m), { repeats: 3, warmup: 1 });
    assert.equal(tf.memory().numTensors, before);
    assert.equal(p.timing, 'wall');
    assert.equal(p.repeats, 3);
    assert.deepEqual(p.kernels.map((k) => k.name), ['Conv2D', 'Relu', 'Mean', 'BatchMatMul', 'Add']);
    assertTotalsAreSums(p);
    // conv: 144 px * 8 out * 27 MACs * 2 = 62208 FLOPs.
    assert.equal(p.kernels[0].flops, 62208);
    assert.ok(p.totals.timeMs > 0, 'wall time of real work is positive');
    tf.dispose([x, w, m]);
  });

  it('a kernel run inside another is folded into it, not counted twice', async () => {
    await useBackend('cpu');
    const x = tf.randomNormal([1, 4, 4, 16]);
    const w = { filter: tf.randomNormal([3, 3, 8, 16]), bias: tf.zeros([16]), w1: tf.randomNormal([16, 64]),
      b1: tf.zeros([64]), w2: tf.randomNormal([64, 16]), b2: tf.zeros([16]) };
    const { convfirstBlock } = await import('../../src/index.js');
    const p = await profileFunction(() => convfirstBlock(x, w), { warmup: 0 });
    assert.equal(p.kernels.length, 1);
    assert.equal(p.kernels[0].name, 'FusedConvFirstBlock');
    assert.ok(p.nestedKernels >= 5, `the reference ran stock kernels inside (${p.nestedKernels})`);
    assertTotalsAreSums(p);
    tf.dispose([x, ...Object.values(w)]);
  });

  it('GPU timer sources add nested kernels\' times to the outer record', () => {
    const leaf = (ms: number, info: string): KernelRecord =>
      ({ name: 'K', inputShapes: [], outputShapes: [], timeMs: ms, extraInfo: info, nested: [], inputDataIds: [] });
    const outer: KernelRecord = { name: 'scope', inputShapes: [], outputShapes: [], timeMs: 0, extraInfo: '', inputDataIds: [],
      nested: [leaf(1.5, 'A: 1.5'), { ...leaf(0.25, 'B: 0.25'), nested: [leaf(2, 'C: 2')] }] };
    addNestedGpuTime(outer);
    assert.equal(outer.timeMs, 1.5 + 0.25 + 2);
    assert.equal(outer.extraInfo, 'A: 1.5, B: 0.25, C: 2');
  });

  it('a backend time that is no duration (NaN, negative) is no time: counted as 0 with a warning', async () => {
    await useBackend('cpu');
    const x = tf.ones([8, 8]);
    const engine = tf.engine() as unknown as { profile: (f: () => unknown) => Promise<{ kernels: Array<{ kernelTimeMs: unknown }> }> };
    const original = engine.profile;
    const bad = [NaN, -3, Infinity];
    engine.profile = async function (this: unknown, f: () => unknown) {
      const info = await original.call(this, f);
      info.kernels.forEach((k, i) => { if (i < bad.length) k.kernelTimeMs = bad[i]; });
      return info;
    };
    try {
      const p = await profileFunction(() => tf.tidy(() => tf.add(tf.exp(tf.mul(x, 2)), tf.relu(x))), { warmup: 0 });
      assert.deepEqual(p.kernels.slice(0, 3).map((k) => k.timeMs), [0, 0, 0]);
      assertTotalsAreSums(p);
      assert.ok(Number.isFinite(p.totals.timeMs) && p.totals.timeMs >= 0, `total ${p.totals.timeMs}`);
      assert.ok(p.warnings.some((w) => /3 kernel\(s\) reported no time/.test(w)), p.warnings.join('; '));
    } finally {
      engine.profile = original;
      x.dispose();
    }
  });

  it('refuses runs that dispatch different kernel sequences, and bad options', async () => {
    await useBackend('cpu');
    let n = 0;
    const x = tf.ones([4]);
    await assert.rejects(profileFunction(() => (n++ % 2 === 0 ? tf.exp(x) : tf.neg(x)), { warmup: 0, repeats: 2 }),
      /different kernel sequences/);
    await assert.rejects(profileFunction(() => tf.exp(x), { repeats: 0 }), /repeats must be an integer >= 1/);
    for (const rampMs of [-1, NaN, Infinity]) {
      await assert.rejects(profileFunction(() => tf.exp(x), { rampMs }), new RegExp(`rampMs must be a finite number >= 0, got ${rampMs}`));
    }
    // Arguments of the wrong kind are named, not met with a TypeError from deep inside.
    await assert.rejects(profileFunction(undefined as never), /^Error: profileFunction: f must be a function of tensors, got undefined/);
    await assert.rejects(analyzeModels({ name: 'm' } as never, { peaks: userPeaks(1, 1) }),
      /^Error: analyzeModels: entries must be an array of \{ name, model, inputShape \}/);
    await assert.rejects(countModelCost(undefined as never, [1]), /^Error: countModelCost: model must be a GraphModel/);
    x.dispose();
  });

  it('a function that throws while profiled leaves the engine no longer profiling', async () => {
    await useBackend('cpu');
    const x = tf.ones([4, 4]);
    const state = tf.engine().state as unknown as { profiling: boolean; activeProfile: { kernels: unknown[] } };
    await assert.rejects(profileFunction(() => {
      tf.add(x, x).dispose();
      throw new Error('model failed');
    }, { warmup: 0 }), /model failed/);
    assert.equal(state.profiling, false);
    const kept = state.activeProfile.kernels.length;
    tf.tidy(() => tf.mul(x, x));
    assert.equal(state.activeProfile.kernels.length, kept, 'kernels run later are not recorded');
    x.dispose();
  });

  it('a clock ramp runs the function back to back before each profiled run (off by default on cpu)', async () => {
    await useBackend('cpu');
    const x = tf.ones([64]);
    let calls = 0;
    const f = () => { calls++; return tf.exp(x); };
    const before = tf.memory().numTensors;
    await profileFunction(f, { warmup: 0, repeats: 2 });
    assert.equal(calls, 2, 'no ramp on cpu unless asked');
    calls = 0;
    const progress: string[] = [];
    const t0 = performance.now();
    const p = await profileFunction(f, { warmup: 0, repeats: 2, rampMs: 40, onProgress: (m) => progress.push(m) });
    assert.ok(performance.now() - t0 >= 80, 'each profiled run waits for its 40 ms ramp');
    // Each ramp runs at least one pair; the profiled runs themselves are the other two calls.
    assert.ok(calls >= 2 + 2 * 2 && calls % 2 === 0, `calls ${calls}`);
    assert.deepEqual(progress.filter((m) => m.startsWith('clock ramp')),
      ['clock ramp 40 ms before profiled run 1/2', 'clock ramp 40 ms before profiled run 2/2']);
    assert.deepEqual(p.kernels.map((k) => k.name), ['Exp'], 'ramp runs are not profiled');
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
  });

  it('analyzeFunction: roofline columns and the waterline running sums', async () => {
    await useBackend('cpu');
    const x = tf.randomNormal([1, 12, 12, 3]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 3, 8]) as tf.Tensor4D;
    const m = tf.randomNormal([8, 5]) as tf.Tensor2D;
    const peaks = userPeaks(0.01, 5);
    const a = await analyzeFunction('net', smallNetwork(x, w, m), { peaks, warmup: 0 });
    let cum = 0;
    let cumFloor = 0;
    for (const k of a.kernels) {
      cum += k.timeMs;
      cumFloor += floorMs(k.flops, k.bytes, peaks);
      assert.equal(k.cumulativeMs, cum);
      assert.equal(k.cumulativeFloorMs, cumFloor);
      assert.equal(k.floorMs, Math.max(k.flops / 1e10, k.bytes / 5e9) * 1e3);
      assert.equal(k.idealMs, k.flops / 1e10 * 1e3);
    }
    assert.equal(a.totals.timeMs, cum);
    assert.equal(a.totals.floorMs, a.kernels.reduce((s, k) => s + k.floorMs, 0));
    assert.equal(a.totals.efficiency, a.totals.flops / (a.totals.timeMs / 1e3) / 1e10);
    tf.dispose([x, w, m]);
  });
});

describe('whole GraphModel (Keras ConvNeXt fixture, 64x64)', () => {
  it('countModelCost: params from the weights, FLOPs from one profiled run', async () => {
    await useBackend('cpu');
    const model = await loadGraphModelFromFile(FIXTURE);
    const json = JSON.parse(readFileSync(FIXTURE, 'utf8')) as tf.io.ModelJSON;
    // Independent parameter count: every float32 weight of rank >= 1 in the manifest (scalars are constants).
    const expectedParams = json.weightsManifest.flatMap((g) => g.weights)
      .filter((w) => w.dtype === 'float32' && w.shape.length > 0).reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
    const before = tf.memory().numTensors;
    const cost = await countModelCost(model, [1, 64, 64, 3]);
    assert.equal(tf.memory().numTensors, before);
    assert.equal(cost.params, expectedParams);
    assert.equal(cost.flops, cost.kernels.reduce((s, k) => s + k.flops, 0));
    // stem: patchify conv 4x4 stride 4, 3 -> 16 channels: 16*16*16 outputs * 48 MACs * 2 + 4096 bias = 397312.
    assert.equal(cost.kernels[0].name, 'FusedConv2D');
    assert.equal(cost.kernels[0].flops, 397312);
    // Per kernel: the weights it reads, by graph node name; params charged once each.
    assert.equal(cost.kernels[0].params, 4 * 4 * 3 * 16 + 16);
    assert.ok(cost.kernels[0].weights.some((w) => /stem_conv/.test(w)));
    assert.equal(cost.kernels.reduce((s, k) => s + k.params, 0), cost.params, 'every float weight is read by a kernel');
    assert.equal(cost.kernels.find((k) => k.name === 'Rsqrt')?.params, 0);
    const names = cost.kernels.map((k) => k.name);
    assert.equal(names.filter((n) => n === 'FusedDepthwiseConv2D').length, 5, 'one depthwise conv per block');
    assert.equal(names.filter((n) => n === 'FusedConv2D').length, 4, 'stem + 3 downsampling convs');
    assert.ok(!names.some((n) => n.endsWith('__op')), 'op scopes are named after their kernel');
    await assert.rejects(countModelCost(model, [1, 0, 64, 3]), /inputShape must be an array of positive integers/);
    // A shape the graph refuses while it runs: the error comes out of the profiled run, which is then over.
    await assert.rejects(countModelCost(model, [1, 32, 32, 3]), /shape/);
    assert.equal((tf.engine().state as unknown as { profiling: boolean }).profiling, false);
    model.dispose();
  });

  it('analyzeModels: several models, unique names, figures drawn', async () => {
    await useBackend('cpu');
    const model = await loadGraphModelFromFile(FIXTURE);
    const peaks = userPeaks(0.01, 5);
    const progress: string[] = [];
    const a = await analyzeModels([{ name: 'a', model, inputShape: [1, 64, 64, 3] },
      { name: 'b', model, inputShape: [1, 64, 64, 3] }], { peaks, warmup: 0, onProgress: (m) => progress.push(m) });
    assert.deepEqual(a.models.map((m) => m.name), ['a', 'b']);
    assert.ok(a.models.every((m) => m.params > 0 && m.totals.flops > 0 && m.kernels.length > 100));
    assert.equal(a.models[0].kernels.reduce((s, k) => s + (k.params ?? 0), 0), a.models[0].params);
    assert.ok(progress.some((p) => p.startsWith('b: profiled run 1/1')));
    for (const svg of Object.values(a.figures)) assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    await assert.rejects(analyzeModels([{ name: 'a', model, inputShape: [1, 64, 64, 3] },
      { name: 'a', model, inputShape: [1, 64, 64, 3] }], { peaks }), /two models are named 'a'/);
    await assert.rejects(analyzeModels([{ name: 'a', model, inputShape: [2, 64, 64, 3] }], { peaks }),
      /does not fit the model's input/);
    // Named before any profiling, not a TypeError from deep inside.
    await assert.rejects(analyzeModels([{ name: 'a', model, inputShape: [1, 64, 64, 3] }], undefined as never),
      /analyzeModels: options with the device peaks are required/);
    await assert.rejects(analyzeModels([{ name: 'a', model } as never], { peaks }), /input shape must be an array of positive integers/);
    await assert.rejects(countModelCost(model, 32 as never), /countModelCost: inputShape must be an array of positive integers, got 32/);
    const steps: string[] = [];
    await countModelCost(model, [1, 64, 64, 3], undefined, { onProgress: (m) => steps.push(m) });
    assert.deepEqual(steps.map((m) => m.split(' ')[0]), ['one', 'counted'], steps.join(' | '));
    model.dispose();
  });
});

describe('kernels without a FLOP formula are named, not silently counted as 0', () => {
  // ResizeBilinear has no formula: a model using it (an upsampling head) gets a count that leaves it out.
  const resizing = {
    weights: {},
    inputs: [{ name: 'x', shape: [1, 4, 4, 2], dtype: 'float32' as const }],
    execute: (x: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap) => tf.tidy(() =>
      tf.relu(tf.image.resizeBilinear(x as tf.Tensor4D, [8, 8]))),
    executeAsync: async () => { throw new Error('not used'); },
  };

  it('countModelCost warns about them; a count without them has no warning', async () => {
    await useBackend('cpu');
    const before = tf.memory().numTensors;
    const cost = await countModelCost(resizing, [1, 4, 4, 2]);
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(cost.kernels.map((k) => [k.name, k.category]), [['ResizeBilinear', 'unknown'], ['Relu', 'elementwise']]);
    assert.equal(cost.flops, 128, 'the Relu only');
    assert.equal(cost.warnings.length, 1, JSON.stringify(cost.warnings));
    assert.match(cost.warnings[0], /no FLOP formula for kernel\(s\) ResizeBilinear: counted as 0 FLOPs/);
    const model = await loadGraphModelFromFile(FIXTURE);
    assert.deepEqual((await countModelCost(model, [1, 64, 64, 3])).warnings, []);
    model.dispose();
  });

  it('the profiler warns too, also about one inside a composite kernel', async () => {
    await useBackend('cpu');
    const x = tf.randomNormal([1, 4, 4, 2]);
    const p = await profileFunction(() => resizing.execute(x) as tf.Tensor, { warmup: 0 });
    assert.ok(p.warnings.some((w) => /no FLOP formula for kernel\(s\) ResizeBilinear/.test(w)), p.warnings.join(' | '));
    tf.dispose(x);
    // A kernel without a formula whose inner kernels are costed (a composite): only the inner ones without one count.
    const record = (name: string, nested: KernelRecord[] = []): KernelRecord => ({ name, inputShapes: [[1, 4, 4, 2]],
      outputShapes: [[1, 8, 8, 2]], timeMs: 0, extraInfo: '', nested, inputDataIds: [] });
    assert.match(uncountedWarning([record('MyUpsample', [record('ResizeBilinear'), record('Relu')])]) ?? '',
      /kernel\(s\) ResizeBilinear:/);
    assert.equal(uncountedWarning([record('MyBlock', [record('Relu'), record('Add')])]), null);
  });
});

describe('profiler on webgpu (Dawn, SwiftShader)', { skip: webgpuUnavailableReason() ?? false }, () => {
  it('times come from timestamp queries; totals equal the sums', async () => {
    await useBackend('webgpu');
    const x = tf.randomNormal([1, 12, 12, 3]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 3, 8]) as tf.Tensor4D;
    const m = tf.randomNormal([8, 5]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    const progress: string[] = [];
    const p = await profileFunction(smallNetwork(x, w, m), { repeats: 2, onProgress: (msg) => progress.push(msg) });
    assert.equal(tf.memory().numTensors, before);
    assert.ok(progress.includes(`clock ramp ${DEFAULT_GPU_RAMP_MS} ms before profiled run 1/2`), 'GPU backends ramp by default');
    assert.equal(p.backend, 'webgpu');
    assert.equal(p.timing, 'gpu-timestamp');
    assert.deepEqual(p.warnings, []);
    assertTotalsAreSums(p);
    assert.ok(p.kernels.some((k) => /Program: /.test(k.extraInfo ?? '')), 'WebGPU program names are reported');
    tf.dispose([x, w, m]);
  });
});
