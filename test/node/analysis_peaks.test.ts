import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type MicrobenchSizes, measureJsPeaks, measureWebGPUPeaks, sizesForRate, userPeaks,
} from '../../src/analysis/peaks.js';
import {
  checkPeaks, efficiency, floorMs, idealLatencyMs, latencyAtEfficiencyMs, ridgeIntensity, rooflineFlopsPerSecond, waterline,
} from '../../src/analysis/roofline.js';
import { measureWebGLPeaks } from '../../src/analysis/webgl_microbench.js';

describe('peaks', () => {
  it('user peaks are converted to FLOP/s and byte/s and validated', () => {
    const p = userPeaks(61.8, 2690);
    assert.equal(p.flopsPerSecond, 61.8e12);
    assert.equal(p.bytesPerSecond, 2690e9);
    assert.equal(p.source, 'user');
    assert.throws(() => userPeaks(0, 1), /flopsPerSecond must be a positive number/);
    assert.throws(() => userPeaks(1, Number.NaN), /bytesPerSecond must be a positive number/);
  });

  it('a fast GPU keeps the full microbenchmark; a slow one gets it shrunk to about the target time', () => {
    const full = sizesForRate({ fmaTflops: 60, copyGBps: 3000 });
    assert.deepEqual(full, { fmaIterations: 4096, fmaWorkgroups: 4096, copyBytes: 256 * 1024 * 1024, repeats: 5 });
    // 2 GFLOP/s: 0.05 s is 1e8 FLOPs, against 4096 * 256 * 4096 * 64 = 2.7e11 for the full run.
    const slow = sizesForRate({ fmaTflops: 0.002, copyGBps: 1 });
    const flops = slow.fmaWorkgroups! * 256 * slow.fmaIterations! * 64;
    assert.ok(flops > 0.5e8 && flops < 2e8, `${flops} FLOPs`);
    // 1 GB/s for 0.05 s moves 5e7 bytes: a 2.5e7-byte source (read + write).
    assert.equal(slow.copyBytes, 25e6);
    assert.equal(sizesForRate({ fmaTflops: 0.002, copyGBps: 0.01 }).copyBytes, 4 * 1024 * 1024, 'never below 4 MiB');
  });

  it('measureWebGPUPeaks: a quick calibration run, then the sized run, reported as measured', async () => {
    const calls: Array<MicrobenchSizes | undefined> = [];
    const fake = async (_device: GPUDevice, opts?: MicrobenchSizes) => {
      calls.push(opts);
      return { fmaTflops: 50, copyGBps: 2500, timing: 'timestamp' };
    };
    const p = await measureWebGPUPeaks({} as GPUDevice, fake);
    assert.equal(calls.length, 2);
    assert.equal(calls[0]?.fmaWorkgroups, 64);
    assert.equal(calls[1]?.fmaWorkgroups, 4096);
    assert.deepEqual([p.flopsPerSecond, p.bytesPerSecond, p.source], [50e12, 2500e9, 'measured']);
    assert.match(p.note ?? '', /timestamp timing/);
  });

  it('JavaScript peaks for the cpu backend are positive and finite', () => {
    const p = measureJsPeaks({ seconds: 0.05 });
    assert.ok(p.flopsPerSecond > 1e6 && Number.isFinite(p.flopsPerSecond));
    assert.ok(p.bytesPerSecond > 1e6 && Number.isFinite(p.bytesPerSecond));
  });

  it('bad arguments are named, not measured as nothing or met with a TypeError', async () => {
    for (const seconds of [-1, 0, Number.NaN, 'a']) {
      assert.throws(() => measureJsPeaks({ seconds: seconds as number }), /measureJsPeaks: seconds must be a positive number/);
    }
    await assert.rejects(measureWebGPUPeaks(undefined as never, (async () => ({})) as never), /measureWebGPUPeaks: device must be a GPUDevice/);
    assert.throws(() => checkPeaks(undefined as never), /peaks must be \{ flopsPerSecond, bytesPerSecond \}/);
    await assert.rejects(measureWebGLPeaks(), /measureWebGLPeaks: no WebGL2 context given and no OffscreenCanvas here/);
  });
});

describe('roofline definitions', () => {
  const peaks = userPeaks(10, 1000); // 1e13 FLOP/s, 1e12 B/s: ridge at 10 FLOP/B
  it('efficiency, ideal latency, latency at an efficiency', () => {
    // 1e10 FLOPs in 4 ms = 2.5e12 FLOP/s = 25% of peak; ideal 1 ms; at E = 25%, 4 ms.
    assert.equal(efficiency(1e10, 4, peaks), 0.25);
    assert.equal(idealLatencyMs(1e10, peaks), 1);
    assert.equal(latencyAtEfficiencyMs(1e10, 0.25, peaks), 4);
  });
  it('floor = max(compute, memory); roof and ridge', () => {
    assert.equal(floorMs(1e10, 1e9, peaks), 1); // compute-bound: 1 ms compute, 1 ms memory (at the ridge)
    assert.equal(floorMs(1e10, 1e8, peaks), 1); // compute-bound: 1 ms compute, 0.1 ms memory
    assert.equal(floorMs(1e9, 4e9, peaks), 4); // memory-bound: 0.1 ms compute, 4 ms memory
    assert.equal(ridgeIntensity(peaks), 10);
    assert.equal(rooflineFlopsPerSecond(2, peaks), 2e12);
    assert.equal(rooflineFlopsPerSecond(100, peaks), 1e13);
  });
  it('waterline: running sums of measured times and floors', () => {
    const w = waterline([{ timeMs: 2, flops: 1e10, bytes: 0 }, { timeMs: 5, flops: 0, bytes: 3e9 }], peaks);
    assert.deepEqual(w, { measured: [2, 7], floor: [1, 4] });
  });
});
