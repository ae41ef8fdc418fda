/**
 * Kernel profiles for the figures, through the analysis profiler (WebGPU timestamp queries; WebGL timer
 * queries or wall time), with the device's peaks measured once per page by the analysis microbenchmarks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { measureDevicePeaks } from '../../src/analysis/microbench.js';
import { type DevicePeaks, type FigureKernel, measureJsPeaks, measureWebGPUPeaks, profileFunction }
  from '../../src/analysis/index.js';

export interface ProfileSummary {
  name: string;
  backend: string;
  timing: string;
  kernels: FigureKernel[];
  totalFlops: number;
  totalMs: number;
  warnings: string[];
}

const peaksByBackend = new Map<string, Promise<DevicePeaks | null>>();

/** Software adapters (SwiftShader) get a small microbenchmark so the page stays responsive. */
function isSoftwareAdapter(device: GPUDevice, backend: unknown): boolean {
  const info = (backend as { adapterInfo?: Record<string, unknown> }).adapterInfo ?? {};
  const text = JSON.stringify(info).toLowerCase();
  return text.includes('swiftshader') || device.limits.maxComputeInvocationsPerWorkgroup <= 256;
}

/**
 * Peaks for the figures: measured with WGSL on webgpu, with JavaScript loops on cpu; WebGL has no compute
 * microbenchmark, so it borrows the WebGPU figures of the same GPU when this page measured them.
 */
export function peaksFor(backendName: string): Promise<DevicePeaks | null> {
  let p = peaksByBackend.get(backendName);
  if (p == null) {
    p = (async () => {
      if (backendName === 'webgpu') {
        const backend = tf.backend() as unknown as { device: GPUDevice };
        const small = isSoftwareAdapter(backend.device, backend);
        return measureWebGPUPeaks(backend.device, (d) => measureDevicePeaks(d, small ?
          { fmaIterations: 256, fmaWorkgroups: 64, copyBytes: 8 << 20, repeats: 2 } :
          { fmaIterations: 2048, fmaWorkgroups: 2048, copyBytes: 128 << 20, repeats: 3 }));
      }
      if (backendName === 'cpu') return measureJsPeaks({ seconds: 0.2 });
      return (await peaksByBackend.get('webgpu')?.catch(() => null)) ?? null;
    })();
    peaksByBackend.set(backendName, p);
    // A failed measurement is not remembered: the next profiled run measures again instead of failing for the page's life.
    const failed = p;
    failed.catch(() => { if (peaksByBackend.get(backendName) === failed) peaksByBackend.delete(backendName); });
  }
  return p;
}

export async function profileForFigures(name: string, f: () => tf.TensorContainer): Promise<ProfileSummary> {
  const p = await profileFunction(f, { warmup: 0, repeats: 1 });
  return {
    name, backend: p.backend, timing: p.timing, warnings: p.warnings,
    kernels: p.kernels.map((k) => ({ name: k.name, flops: k.flops, bytes: k.bytes, timeMs: k.timeMs })),
    totalFlops: p.totals.flops, totalMs: p.totals.timeMs,
  };
}
