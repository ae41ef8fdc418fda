/**
 * What every WebGPU benchmark does before measuring: describe the device, measure its peaks in the same run,
 * and count dispatches (every GPU program tfjs's webgpu backend runs goes through runWebGPUProgram).
 * Call after setupNodeWebGPU() and tf.setBackend('webgpu').
 */
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { type DevicePeaks, measureDevicePeaks } from '../../src/analysis/microbench.js';

export function describeDevice(backend: WebGPUBackend, extra = ''): string {
  const device = backend.device;
  const adapterInfo = (backend as unknown as { adapterInfo?: unknown }).adapterInfo;
  return `device: ${JSON.stringify(adapterInfo)}; timestamp-query: ${device.features.has('timestamp-query')}; ` +
    `workgroup storage ${device.limits.maxComputeWorkgroupStorageSize} B, ` +
    `${device.limits.maxComputeInvocationsPerWorkgroup} invocations${extra}`;
}

/** The WGSL FMA peak and copy bandwidth; `smoke` runs a tiny version for software renderers. */
export async function measureBenchPeaks(device: GPUDevice, smoke: boolean): Promise<DevicePeaks> {
  const peaks = await measureDevicePeaks(device, smoke ?
    { fmaIterations: 64, fmaWorkgroups: 64, copyBytes: 4 << 20, repeats: 2 } : {});
  console.log(`measured peaks: FMA ${peaks.fmaTflops.toFixed(2)} TFLOP/s, copy ${(peaks.copyGBps / 1000).toFixed(3)} ` +
    `TB/s (${peaks.timing})`);
  return peaks;
}

/** Counts the programs (= dispatches) the backend runs from now on. */
export function countDispatches(backend: WebGPUBackend): { count: number; reset(): void } {
  const counter = { count: 0, reset() { counter.count = 0; } };
  const run = backend.runWebGPUProgram.bind(backend);
  backend.runWebGPUProgram = ((...a: Parameters<typeof run>) => { counter.count++; return run(...a); }) as typeof run;
  return counter;
}
