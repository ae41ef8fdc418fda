/**
 * Peak FLOP/s and bandwidth of the device the analysis runs on: given by the user, or measured by
 * microbenchmarks on the same device (WebGPU: a WGSL FMA chain and a buffer copy, `measureDevicePeaks`
 * in microbench.ts; cpu / wasm: a JavaScript FMA loop and a Float32Array copy). Browser-safe.
 */
import { checkPeaks, type DevicePeaks } from './roofline.js';

/** What the WGSL microbenchmark (microbench.ts) returns. */
export interface MicrobenchPeaks {
  /** FMA throughput in TFLOP/s (an FMA counts 2 FLOPs). */
  fmaTflops: number;
  /** Device-memory copy bandwidth in GB/s, reads plus writes. */
  copyGBps: number;
}

export type MeasureDevicePeaks = (device: GPUDevice, opts?: Record<string, unknown>) => Promise<MicrobenchPeaks>;

export function userPeaks(tflops: number, gbps: number, note = 'given by the user'): DevicePeaks {
  return checkPeaks({ flopsPerSecond: tflops * 1e12, bytesPerSecond: gbps * 1e9, source: 'user', note });
}

export function peaksFromMicrobench(m: MicrobenchPeaks, note: string): DevicePeaks {
  return checkPeaks({ flopsPerSecond: m.fmaTflops * 1e12, bytesPerSecond: m.copyGBps * 1e9, source: 'measured', note });
}

/** Runs the WGSL microbenchmark on the device of the active webgpu backend. */
export async function measureWebGPUPeaks(device: GPUDevice, measure: MeasureDevicePeaks): Promise<DevicePeaks> {
  return peaksFromMicrobench(await measure(device), 'WGSL FMA chain + buffer copy microbenchmark (webgpu)');
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/**
 * Peaks of the JavaScript engine running the cpu backend: the best of a few timed runs of an
 * independent-chains multiply-add loop and a Float32Array copy. A reference for the cpu backend only.
 */
export function measureJsPeaks(opts: { seconds?: number } = {}): DevicePeaks {
  const budgetMs = (opts.seconds ?? 0.2) * 1e3;
  const chains = new Float32Array(64).fill(1);
  let bestFlops = 0;
  let bestBytes = 0;
  const src = new Float32Array(1 << 22);
  const dst = new Float32Array(1 << 22);
  const start = now();
  let sink = 0;
  while (now() - start < budgetMs) {
    const iters = 20000;
    const t0 = now();
    let a0 = chains[0], a1 = chains[1], a2 = chains[2], a3 = chains[3];
    const m = 0.9999, c = 1e-4;
    for (let i = 0; i < iters; i++) {
      a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c;
      a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c;
    }
    const t1 = now();
    sink += a0 + a1 + a2 + a3;
    if (t1 > t0) bestFlops = Math.max(bestFlops, (iters * 8 * 2) / ((t1 - t0) / 1e3));
    const t2 = now();
    dst.set(src);
    const t3 = now();
    if (t3 > t2) bestBytes = Math.max(bestBytes, (src.byteLength * 2) / ((t3 - t2) / 1e3));
  }
  chains[0] = sink; // keep the loop observable
  return checkPeaks({
    flopsPerSecond: bestFlops || 1e9, bytesPerSecond: bestBytes || 1e9, source: 'measured',
    note: 'JavaScript multiply-add loop + Float32Array copy (cpu backend reference)',
  });
}
