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

/** Sizes of the WGSL microbenchmark (microbench.ts's DevicePeakOptions). */
export interface MicrobenchSizes {
  fmaIterations?: number;
  fmaWorkgroups?: number;
  copyBytes?: number;
  repeats?: number;
}

export type MeasureDevicePeaks = (device: GPUDevice, opts?: MicrobenchSizes) => Promise<MicrobenchPeaks>;

/** microbench.ts's defaults: sized to fill a large GPU (about 5 ms of FMA work on an H100). */
const FULL = { fmaIterations: 4096, fmaWorkgroups: 4096, copyBytes: 256 * 1024 * 1024 };
const FMA_FLOPS_PER_THREAD_ITERATION = 8 * 4 * 2; // 8 vec4 chains, 2 FLOPs per lane
const QUICK: MicrobenchSizes = { fmaIterations: 64, fmaWorkgroups: 64, copyBytes: 4 * 1024 * 1024, repeats: 3 };

/**
 * Microbenchmark sizes for a device whose rough speed a quick run measured: the full sizes, shrunk so
 * that one timed dispatch takes about `targetSeconds` at the quick rate (a software adapter such as
 * SwiftShader would otherwise run for many minutes). A fast GPU keeps the full sizes.
 */
export function sizesForRate(quick: MicrobenchPeaks, targetSeconds = 0.05): MicrobenchSizes {
  const fullFlops = FULL.fmaWorkgroups * 256 * FULL.fmaIterations * FMA_FLOPS_PER_THREAD_ITERATION;
  const flopScale = Math.min(1, quick.fmaTflops * 1e12 * targetSeconds / fullFlops);
  const byteScale = Math.min(1, quick.copyGBps * 1e9 * targetSeconds / (2 * FULL.copyBytes));
  return {
    // Shrink the loop first, then the grid, keeping at least 64 workgroups so every core has work.
    fmaIterations: Math.max(16, Math.round(FULL.fmaIterations * Math.sqrt(flopScale))),
    fmaWorkgroups: Math.max(64, Math.round(FULL.fmaWorkgroups * Math.sqrt(flopScale))),
    copyBytes: Math.max(QUICK.copyBytes!, Math.round(FULL.copyBytes * byteScale / 16) * 16),
    repeats: 5,
  };
}

export function userPeaks(tflops: number, gbps: number, note = 'given by the user'): DevicePeaks {
  return checkPeaks({ flopsPerSecond: tflops * 1e12, bytesPerSecond: gbps * 1e9, source: 'user', note });
}

export function peaksFromMicrobench(m: MicrobenchPeaks, note: string): DevicePeaks {
  return checkPeaks({ flopsPerSecond: m.fmaTflops * 1e12, bytesPerSecond: m.copyGBps * 1e9, source: 'measured', note });
}

/**
 * Runs the WGSL microbenchmark (pass microbench.ts's `measureDevicePeaks`) on a device, normally the one
 * of the active webgpu backend: `(tf.backend() as WebGPUBackend).device`. A quick small run first sizes
 * the real one (see sizesForRate).
 */
export async function measureWebGPUPeaks(device: GPUDevice, measure: MeasureDevicePeaks): Promise<DevicePeaks> {
  if (device == null) {
    throw new Error('measureWebGPUPeaks: device must be a GPUDevice (the webgpu backend\'s: (tf.backend() as WebGPUBackend).device)');
  }
  const m = await measure(device, sizesForRate(await measure(device, QUICK)));
  const timing = (m as { timing?: string }).timing;
  return peaksFromMicrobench(m, `WGSL vec4 FMA chains + buffer copy on this device${timing ? ` (${timing} timing)` : ''}`);
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/**
 * Peaks of the JavaScript engine running the cpu backend: the best of a few timed runs of an
 * independent-chains multiply-add loop and a Float32Array copy. A reference for the cpu backend only.
 */
export function measureJsPeaks(opts: { seconds?: number } = {}): DevicePeaks {
  const seconds = opts.seconds ?? 0.2;
  // No time to measure in would report the loop's starting values as measured peaks.
  if (typeof seconds !== 'number' || !(seconds > 0) || !Number.isFinite(seconds)) {
    throw new Error(`measureJsPeaks: seconds must be a positive number, got ${JSON.stringify(opts.seconds)}`);
  }
  const budgetMs = seconds * 1e3;
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
    // Eight independent chains, one multiply-add each per iteration: enough in flight that the loop measures the
    // core's throughput, not one chain's latency (four chains updated twice read ~1.8x lower).
    let a0 = chains[0], a1 = chains[1], a2 = chains[2], a3 = chains[3];
    let a4 = chains[4], a5 = chains[5], a6 = chains[6], a7 = chains[7];
    const m = 0.9999, c = 1e-4;
    for (let i = 0; i < iters; i++) {
      a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c;
      a4 = a4 * m + c; a5 = a5 * m + c; a6 = a6 * m + c; a7 = a7 * m + c;
    }
    const t1 = now();
    sink += a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
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
