/**
 * Stopping the demo's comparison (ComparisonConfig.signal) in Node on cpu: it rejects as stopped at whichever
 * progress point the stop comes (building, warm-up, timing, between models), leaves no tensor behind and the
 * engine usable; and the progress names the batch that runs when a model fixes it.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../../src/index.js';
import { type ComparisonConfig, isStopped, type Progress, runComparison } from '../../demo/lib/comparison.js';
import { smallConvNeXtOnnx } from '../support/convnext_onnx.js';

const dynamicBatch = smallConvNeXtOnnx(['N', 3, 32, 32]);

const config = (signal?: AbortSignal, bytes = dynamicBatch, batch = 2): ComparisonConfig => ({
  backends: ['cpu'], models: [], variant: 'atto', inputSize: 32, batch, iterations: 6, warmup: 2, seed: 1, profile: true,
  signal, ownModel: { name: 'small.onnx', files: [new File([bytes as Uint8Array<ArrayBuffer>], 'small.onnx')] },
});

/** Runs a comparison that stops at the first progress event `when` accepts; returns the stages seen. */
async function stopWhen(when: (p: Progress) => boolean): Promise<string[]> {
  const controller = new AbortController();
  const stages: string[] = [];
  const tensorsBefore = tf.memory().numTensors;
  const error = await runComparison(config(controller.signal), (p) => {
    stages.push(p.stage);
    if (when(p)) controller.abort();
  }).then(() => null, (e: unknown) => e);
  assert.ok(error != null, `stopped at ${stages.at(-1)}, yet the comparison finished`);
  assert.ok(isStopped(error, controller.signal), `rejected as stopped, not failed: ${String(error)}`);
  assert.equal(tf.memory().numTensors, tensorsBefore, 'every tensor and model disposed');
  return stages;
}

describe('stopping the demo comparison (cpu, Node)', () => {
  before(async () => {
    (globalThis as { navigator?: unknown }).navigator ??= { userAgent: 'node' };
    await tf.setBackend('cpu');
  });

  it('stops while timing, before the next inference', async () => {
    const stages = await stopWhen((p) => p.stage === 'Timing');
    assert.equal(stages.at(-1), 'Timing', 'no progress after the stop');
  });

  it('stops during the warm-up', async () => {
    const stages = await stopWhen((p) => p.stage === 'Warming up');
    assert.ok(!stages.includes('Timing'));
  });

  it('stops between models (the second model never uploads)', async () => {
    let uploads = 0;
    const stages = await stopWhen((p) => p.stage === 'Profiling kernels');
    for (const s of stages) if (s === 'Uploading weights') uploads++;
    assert.equal(uploads, 1);
  });

  it('stops while building (converting) the models', async () => {
    const stages = await stopWhen((p) => p.stage === 'Building models');
    assert.ok(stages.every((s) => s === 'Building models'), stages.join(', '));
  });

  it('a signal stopped before the start builds nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    let progress = 0;
    await assert.rejects(runComparison(config(controller.signal), () => { progress++; }),
      (e) => isStopped(e, controller.signal));
    assert.equal(progress, 0);
  });

  it('the engine works after a stop: a full run then finishes, its results without the signal', async () => {
    await stopWhen((p) => p.stage === 'Profiling kernels');
    const results = await runComparison(config(new AbortController().signal), () => {});
    assert.deepEqual(results.rows.map((r) => r.model), ['own-original', 'own-converted']);
    assert.ok(!('signal' in results.config), 'the JSON download holds no AbortSignal');
  });

  it('names the batch that runs when the model fixes it, before the first run', async () => {
    const stages: Progress[] = [];
    const results = await runComparison(config(undefined, smallConvNeXtOnnx([1, 3, 32, 32]), 3), (p) => stages.push(p));
    const input = stages.find((p) => p.stage === 'Input');
    assert.match(input?.detail ?? '', /^batch 1 \(fixed by the model; the form's 3 does not apply\)/);
    assert.ok(stages.indexOf(input!) < stages.findIndex((p) => p.stage === 'Uploading weights'));
    assert.equal(results.rows[0].batch, 1);
  });
});
