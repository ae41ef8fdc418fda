/**
 * withRoofline (src/analysis/analyze.ts): the per-kernel metrics a profile gets. Untimed kernels (no timestamp
 * queries) get null rates, not a measured 0%; kernels faster than their floor are reported as a warning.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { belowFloorWarning, withRoofline } from '../../src/analysis/analyze.js';
import { userPeaks } from '../../src/analysis/peaks.js';

const peaks = userPeaks(10, 1000); // 10 TFLOP/s, 1000 GB/s
const row = (name: string, flops: number, bytes: number, timeMs: number) => ({ name, flops, bytes, timeMs, params: 0 });
const totals = (rows: ReturnType<typeof row>[]) => ({ kernels: rows.length, flops: rows.reduce((s, r) => s + r.flops, 0),
  bytes: rows.reduce((s, r) => s + r.bytes, 0), timeMs: rows.reduce((s, r) => s + r.timeMs, 0) });

describe('withRoofline', () => {
  it('untimed kernels and models: achievedTflops and efficiency are null, floors still computed', () => {
    const rows = [row('a', 1e9, 1e6, 0), row('b', 2e9, 1e8, 0)];
    const r = withRoofline(rows as never, totals(rows) as never, peaks);
    for (const k of r.kernels) { assert.equal(k.efficiency, null); assert.equal(k.achievedTflops, null); }
    assert.equal(r.totals.efficiency, null);
    assert.equal(r.totals.achievedTflops, null);
    // a: max(1e9 / 1e13, 1e6 / 1e12) s = 0.1 ms; b: max(0.2 ms, 0.1 ms) = 0.2 ms.
    assert.deepEqual(r.kernels.map((k) => Number(k.floorMs.toFixed(6))), [0.1, 0.2]);
    assert.equal(belowFloorWarning(r.kernels), null);
  });

  it('a timed kernel: E = FLOPs / (time x peak); one faster than its floor is named in a warning', () => {
    const rows = [row('slow', 1e9, 1e6, 0.4), row('Multiply', 1e6, 1e9, 0.5)];
    const r = withRoofline(rows as never, totals(rows) as never, peaks);
    assert.ok(Math.abs((r.kernels[0].efficiency ?? NaN) - 0.25) < 1e-12);
    assert.ok(Math.abs((r.kernels[0].achievedTflops ?? NaN) - 2.5) < 1e-12);
    // Multiply's floor is 1e9 bytes / 1e12 B/s = 1 ms; it took 0.5 ms.
    assert.match(belowFloorWarning(r.kernels) ?? '', /^1 kernel\(s\) measured faster than their roofline floor \(Multiply\)/);
  });
});
