/**
 * WebGPU in Node through Dawn (the `webgpu` npm package), shared by tests, the CLI and benchmarks.
 * Node-only: the package root never imports this. `navigator.gpu` must exist before
 * @tensorflow/tfjs-backend-webgpu is evaluated (it registers itself at import time only then), so the
 * backend is imported dynamically after the set-up.
 */
import { existsSync } from 'node:fs';

/** Chromium's SwiftShader Vulkan driver: software WebGPU on machines without a GPU (Dawn rejects lavapipe). */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * Why webgpu cannot run in this process, or null when it may. Only a missing Vulkan driver file is
 * detected here; with VK_ICD_FILENAMES unset, the system's loader (e.g. an NVIDIA driver) is used.
 */
export function webgpuUnavailableReason(): string | null {
  const icd = process.env.VK_ICD_FILENAMES;
  if (icd != null) return existsSync(icd) ? null : `no Vulkan driver at VK_ICD_FILENAMES=${icd}`;
  return null;
}

let loaded: Promise<void> | null = null;

async function load(options: { preferSwiftShader: boolean }): Promise<void> {
  if (options.preferSwiftShader && process.env.VK_ICD_FILENAMES == null && process.env.VK_DRIVER_FILES == null &&
      existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  // Dawn quantizes timestamps (to ~65 us on an H200) unless told not to; per-kernel times need raw values.
  const gpu = create(['enable-dawn-features=allow_unsafe_apis', 'disable-dawn-features=timestamp_quantization']);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  await import('@tensorflow/tfjs-backend-webgpu');
}

/**
 * Makes navigator.gpu (Dawn) and registers tfjs's webgpu backend; idempotent. `preferSwiftShader`
 * (tests) selects Chromium's SwiftShader when no driver is named in VK_ICD_FILENAMES.
 */
export function setupNodeWebGPU(options: { preferSwiftShader?: boolean } = {}): Promise<void> {
  loaded ??= load({ preferSwiftShader: options.preferSwiftShader ?? false });
  return loaded;
}
