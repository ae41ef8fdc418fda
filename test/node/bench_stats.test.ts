/**
 * The benchmarks' and the profiler's median (src/analysis/stats.ts): bench:models and bench's --sweep each had a copy that took the
 * upper middle value of an even count, so bench:models' gpuMedianMs (3 rounds x 10 = 30 samples) was the 16th
 * smallest reading, not the median.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { median } from '../../src/analysis/stats.js';

describe('bench median', () => {
  it('an even count: the mean of the two middle values', () => {
    assert.equal(median([4, 1, 3, 2]), 2.5);
    const thirty = Array.from({ length: 30 }, (_, i) => 30 - i); // 30 .. 1
    assert.equal(median(thirty), 15.5);
  });
  it('an odd count: the middle value; the input is not reordered', () => {
    const v = [5, 1, 9];
    assert.equal(median(v), 5);
    assert.deepEqual(v, [5, 1, 9]);
  });
  it('no values: an error, not undefined', () => {
    assert.throws(() => median([]), /median of no values/);
  });
});
