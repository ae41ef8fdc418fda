/**
 * Backend set-up for node tests: cpu, wasm, and webgpu through Dawn (the `webgpu` package) on Chromium's
 * SwiftShader Vulkan driver. navigator.gpu must exist before tfjs-backend-webgpu is evaluated.
 */
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Why webgpu cannot run in this process, or null when it can. */
export function webgpuUnavailableReason(): string | null {
  const icd = process.env.VK_ICD_FILENAMES ?? SWIFTSHADER_ICD;
  return existsSync(icd) ? null : `no Vulkan driver at ${icd} (install Debian's chromium for SwiftShader)`;
}

let webgpuLoaded: Promise<void> | null = null;

async function loadWebGPU(): Promise<void> {
  process.env.VK_ICD_FILENAMES ??= SWIFTSHADER_ICD;
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true, writable: true });
  await import('@tensorflow/tfjs-backend-webgpu');
}

/** Activates a backend; throws (never silently passes) when it cannot start. */
export async function useBackend(name: 'cpu' | 'wasm' | 'webgpu'): Promise<void> {
  tf.env().set('IS_TEST', true);
  if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  if (name === 'webgpu') {
    webgpuLoaded ??= loadWebGPU();
    await webgpuLoaded;
    tf.env().set('WEBGPU_CPU_FORWARD', false);
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`backend ${name} failed to initialise`);
  await tf.ready();
}
