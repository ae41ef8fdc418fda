/**
 * The demo caches each backend's measured peaks for the page's life; a measurement that fails must not be cached, or
 * every later profiled run on that page fails with it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { peaksFor } from '../../demo/lib/profile.js';
import { useBackend } from '../support/node_backends.js';

describe('demo peaks cache', () => {
  it('a failed measurement is measured again on the next request; WebGL then borrows none', async () => {
    await useBackend('cpu');
    // 'webgpu' peaks with the cpu backend active: the backend has no device, so the measurement throws.
    const first = peaksFor('webgpu');
    await assert.rejects(first);
    const second = peaksFor('webgpu');
    assert.notEqual(second, first, 'the failure was cached');
    await assert.rejects(second);
    assert.equal(await peaksFor('webgl'), null, "WebGL borrows WebGPU's peaks, and has none when they failed");
    assert.equal(tf.getBackend(), 'cpu');
  });
});
