/**
 * Runs one computation (outputs and gradients) on cpu, then on another backend, and requires the same values:
 * the gradients run the ops' reference compositions with stock ops on each backend, so cpu is their oracle there.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from './node_backends.js';

/**
 * `run` makes its tensors from fixed values and returns outputs named `names`; each must match cpu's within
 * `rel` of its largest cpu magnitude (at least 1). Nothing may be left alive on `backend`.
 */
export async function expectSameAsCpu(backend: 'webgpu' | 'wasm', run: () => tf.Tensor[], names: readonly string[],
  rel = 1e-4): Promise<void> {
  await useBackend('cpu');
  const expected = await readAll(tf.tidy(run));
  await useBackend(backend);
  const before = tf.memory().numTensors;
  const actual = await readAll(tf.tidy(run));
  assert.equal(tf.memory().numTensors, before, `leaked tensors on ${backend}`);
  assert.equal(actual.length, names.length, 'one name per output');
  names.forEach((name, i) => {
    const scale = Math.max(1, ...Array.from(expected[i], Math.abs));
    let diff = 0;
    for (let j = 0; j < expected[i].length; j++) diff = Math.max(diff, Math.abs(actual[i][j] - expected[i][j]));
    // NaN in diff fails the comparison (Math.max propagates it).
    assert.ok(diff <= rel * scale, `${name}: max |${backend} - cpu| ${diff} (scale ${scale})`);
  });
}

/** The values of `tensors`, which are disposed. */
async function readAll(tensors: tf.Tensor[]): Promise<Float32Array[]> {
  const out = await Promise.all(tensors.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(tensors);
  return out;
}
