/**
 * The definitions the analysis is built on (docs/analysis.md states them in words). Units: FLOPs, bytes,
 * milliseconds, FLOP/s and byte/s. Browser-safe, pure.
 *
 * - achieved FLOP/s = FLOPs / time
 * - computational efficiency E = achieved FLOP/s / peak FLOP/s, so latency = FLOPs / (E x peak)
 * - ideal latency = FLOPs / peak (E = 1)
 * - operational intensity = FLOPs / compulsory bytes
 * - floor = max(FLOPs / peak, bytes / bandwidth): the roofline's lower bound on a kernel's time
 * - waterline = running sum of floors, drawn against the running sum of measured times
 */

export interface DevicePeaks {
  /** Peak arithmetic throughput, FLOP/s (an FMA counts 2). */
  flopsPerSecond: number;
  /** Peak device-memory bandwidth, bytes/s (reads + writes). */
  bytesPerSecond: number;
  /** 'measured' by a microbenchmark on this device, or 'user' supplied. */
  source: 'measured' | 'user';
  /** What measured them (microbenchmark name, device) or the user's note. */
  note?: string;
}

export function achievedFlopsPerSecond(flops: number, timeMs: number): number {
  return timeMs > 0 ? flops / (timeMs / 1e3) : 0;
}

export function efficiency(flops: number, timeMs: number, peaks: DevicePeaks): number {
  return achievedFlopsPerSecond(flops, timeMs) / peaks.flopsPerSecond;
}

export function idealLatencyMs(flops: number, peaks: DevicePeaks): number {
  return flops / peaks.flopsPerSecond * 1e3;
}

/** Latency at efficiency E: FLOPs / (E x peak). */
export function latencyAtEfficiencyMs(flops: number, e: number, peaks: DevicePeaks): number {
  return flops / (e * peaks.flopsPerSecond) * 1e3;
}

export function intensity(flops: number, bytes: number): number {
  return bytes > 0 ? flops / bytes : 0;
}

export function floorMs(flops: number, bytes: number, peaks: DevicePeaks): number {
  return Math.max(flops / peaks.flopsPerSecond, bytes / peaks.bytesPerSecond) * 1e3;
}

/** Attainable FLOP/s at an intensity: min(peak, intensity x bandwidth). */
export function rooflineFlopsPerSecond(i: number, peaks: DevicePeaks): number {
  return Math.min(peaks.flopsPerSecond, i * peaks.bytesPerSecond);
}

/** Intensity where the bandwidth and compute ceilings meet (FLOP/byte). */
export function ridgeIntensity(peaks: DevicePeaks): number {
  return peaks.flopsPerSecond / peaks.bytesPerSecond;
}

export interface Waterline {
  /** measured[i] = sum of measured times of kernels 0..i (ms). */
  measured: number[];
  /** floor[i] = sum of floors of kernels 0..i (ms). */
  floor: number[];
}

export function waterline(kernels: ReadonlyArray<{ timeMs: number; flops: number; bytes: number }>,
  peaks: DevicePeaks): Waterline {
  const measured: number[] = [];
  const floor: number[] = [];
  let m = 0;
  let f = 0;
  for (const k of kernels) {
    m += k.timeMs;
    f += floorMs(k.flops, k.bytes, peaks);
    measured.push(m);
    floor.push(f);
  }
  return { measured, floor };
}

export function checkPeaks(peaks: DevicePeaks): DevicePeaks {
  if (peaks == null || typeof peaks !== 'object') {
    throw new Error(`peaks must be { flopsPerSecond, bytesPerSecond } (measureDevicePeaks gives them), got ${peaks}`);
  }
  for (const [name, v] of [['flopsPerSecond', peaks.flopsPerSecond], ['bytesPerSecond', peaks.bytesPerSecond]] as const) {
    if (!(Number.isFinite(v) && v > 0)) throw new Error(`peaks.${name} must be a positive number, got ${v}`);
  }
  return peaks;
}
