/**
 * What every WebGPU benchmark does before measuring: describe the device, measure its peaks in the same run,
 * and count dispatches (every GPU program tfjs's webgpu backend runs goes through runWebGPUProgram).
 * Call after setupNodeWebGPU() and tf.setBackend('webgpu').
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { type DevicePeaks, measureDevicePeaks } from '../../src/analysis/microbench.js';

export function describeDevice(backend: WebGPUBackend, extra = ''): string {
  const device = backend.device;
  const adapterInfo = (backend as unknown as { adapterInfo?: unknown }).adapterInfo;
  return `device: ${JSON.stringify(adapterInfo)}; timestamp-query: ${device.features.has('timestamp-query')}; ` +
    `workgroup storage ${device.limits.maxComputeWorkgroupStorageSize} B, ` +
    `${device.limits.maxComputeInvocationsPerWorkgroup} invocations${extra}`;
}

/**
 * A GPUDevice of its own for the probes, which bypass tfjs: the adapter's compute and buffer limits, timestamps when
 * offered. Call after setupNodeWebGPU().
 */
export async function requestProbeDevice(): Promise<GPUDevice> {
  const adapter = await navigator.gpu.requestAdapter();
  if (adapter == null) throw new Error('no WebGPU adapter');
  const l = adapter.limits;
  return adapter.requestDevice({
    requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
    requiredLimits: { maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup, maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize, maxBufferSize: l.maxBufferSize },
  });
}

/** The WGSL FMA peak and copy bandwidth; `smoke` runs a tiny version for software renderers. */
export async function measureBenchPeaks(device: GPUDevice, smoke: boolean): Promise<DevicePeaks> {
  const peaks = await measureDevicePeaks(device, smoke ?
    { fmaIterations: 64, fmaWorkgroups: 64, copyBytes: 4 << 20, repeats: 2 } : {});
  console.log(`measured peaks: FMA ${peaks.fmaTflops.toFixed(2)} TFLOP/s, copy ${(peaks.copyGBps / 1000).toFixed(3)} ` +
    `TB/s (${peaks.timing})`);
  return peaks;
}

/**
 * Counts the programs (= dispatches) the backend runs from now on, and keeps each one's shader key in run order
 * (`keys`, reset with the count) so a per-dispatch timing can name what it timed.
 */
export function countDispatches(backend: WebGPUBackend): { count: number; keys: string[]; reset(): void } {
  const counter = { count: 0, keys: [] as string[], reset() { counter.count = 0; counter.keys = []; } };
  const run = backend.runWebGPUProgram.bind(backend);
  backend.runWebGPUProgram = ((...a: Parameters<typeof run>) => {
    counter.count++;
    counter.keys.push(a[0].shaderKey);
    return run(...a);
  }) as typeof run;
  return counter;
}

/**
 * GPU ms of every dispatch of `f`, in run order, from tfjs's own per-program timestamps (tf.time's
 * getExtraProfileInfo): the best of `repeats` calls per dispatch. Needs timestamp queries.
 */
export async function perDispatchGpuMs(f: () => tf.Tensor, repeats: number): Promise<{ name: string; ms: number }[]> {
  let best: { name: string; ms: number }[] | null = null;
  for (let r = 0; r < repeats; r++) {
    let y: tf.Tensor | null = null;
    const info = await tf.time(() => { y = f(); }) as tf.TimingInfo & { getExtraProfileInfo?: () => string };
    await (y as tf.Tensor | null)?.data();
    (y as tf.Tensor | null)?.dispose();
    if (info.getExtraProfileInfo == null) throw new Error('per-dispatch timing needs tfjs-backend-webgpu timestamps');
    const list = info.getExtraProfileInfo().split(', ').filter((e) => e !== '').map((e) => {
      const i = e.lastIndexOf(': ');
      return { name: e.slice(0, i), ms: Number(e.slice(i + 2)) };
    });
    best = best == null ? list : best.map((d, i) => ({ name: d.name, ms: Math.min(d.ms, list[i]?.ms ?? Infinity) }));
  }
  return best ?? [];
}

/** Steady-state GPU timing knobs: clock ramp, timed rounds, calls queued per round. */
export interface GpuTiming { warmMs: number; repeats: number; batch: number }

export const GPU_TIMING: GpuTiming = { warmMs: 400, repeats: 7, batch: 10 };
export const SMOKE_GPU_TIMING: GpuTiming = { warmMs: 20, repeats: 2, batch: 2 };

/**
 * GPU time per call in steady state: clocks ramped by `warmMs` of back-to-back calls, then `repeats` rounds
 * of `batch` calls queued back to back inside one tf.time (each program still gets its own timestamped pass),
 * kernel time / batch, the best round. Timing isolated calls with idle gaps between them let the GPU drop
 * clocks and gave 2-4x spreads between identical runs; with a 100 ms ramp, a fused kernel timed right after
 * the stock composition (many small programs) still read up to 2.6x its steady-state time (H200), which is
 * why the ramp is longer and the best round is kept.
 */
export async function steadyGpuTime(f: () => tf.Tensor, t: GpuTiming): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < t.warmMs) {
    const ys = Array.from({ length: 4 }, () => f());
    await ys[ys.length - 1].data();
    tf.dispose(ys);
  }
  const gpu: number[] = [];
  for (let i = 0; i < t.repeats; i++) {
    const info = await tf.time(() => { for (let b = 0; b < t.batch; b++) f().dispose(); });
    gpu.push((info.kernelMs as number) / t.batch);
  }
  return Math.min(...gpu);
}
