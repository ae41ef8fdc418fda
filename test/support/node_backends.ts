/**
 * Backend set-up for node tests: cpu, wasm, and webgpu through Dawn (the `webgpu` package) on Chromium's
 * SwiftShader Vulkan driver (src/node/webgpu_setup.ts).
 */
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { SWIFTSHADER_ICD, setupNodeWebGPU } from '../../src/node/webgpu_setup.js';

export { SWIFTSHADER_ICD };

/** Why webgpu cannot run in this process, or null when it can. */
export function webgpuUnavailableReason(): string | null {
  const icd = process.env.VK_ICD_FILENAMES ?? SWIFTSHADER_ICD;
  return existsSync(icd) ? null : `no Vulkan driver at ${icd} (install Debian's chromium for SwiftShader)`;
}

/** Activates a backend; throws (never silently passes) when it cannot start. */
export async function useBackend(name: 'cpu' | 'wasm' | 'webgpu'): Promise<void> {
  tf.env().set('IS_TEST', true);
  if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  if (name === 'webgpu') {
    await setupNodeWebGPU({ preferSwiftShader: true });
    tf.env().set('WEBGPU_CPU_FORWARD', false);
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`backend ${name} failed to initialise`);
  await tf.ready();
}
