/**
 * A smaller maxComputeWorkgroupsPerDimension for the active webgpu backend: tfjs reads it from device.limits when it
 * reshapes a 1-D dispatch past the limit into 2-D / 3-D, so small test shapes reach the reshape that real ones reach
 * only past 65535 workgroups (shapes too large for SwiftShader to run in a test).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

export async function withWorkgroupsPerDimension<T>(limit: number, run: () => Promise<T>): Promise<T> {
  const device = (tf.backend() as WebGPUBackend).device;
  // Copied into a plain object (GPUSupportedLimits are getters) that shadows them on this device.
  const limits: Record<string, number> = {};
  for (const key in device.limits) limits[key] = device.limits[key as keyof GPUSupportedLimits] as number;
  limits.maxComputeWorkgroupsPerDimension = limit;
  // Dawn's node binding may hold `limits` on the device object itself: put back whatever was there.
  const own = Object.getOwnPropertyDescriptor(device, 'limits');
  Object.defineProperty(device, 'limits', { value: limits, configurable: true });
  try {
    return await run();
  } finally {
    if (own != null) Object.defineProperty(device, 'limits', own);
    else delete (device as { limits?: unknown }).limits;
  }
}
