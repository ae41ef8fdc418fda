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

/** Extra Dawn toggles (names as in Dawn's Toggles.cpp, e.g. 'disable_robustness') for the process's instance. */
export interface DawnToggles { enable?: readonly string[]; disable?: readonly string[] }

/** A Dawn toggle's name: lower-case words joined by _ (also what bench:models --dawn-enable accepts). */
export const DAWN_TOGGLE_NAME = /^[a-z0-9_]+$/;

function toggleList(base: string, extra: readonly string[] | undefined, what: string): string {
  for (const t of extra ?? []) {
    if (!DAWN_TOGGLE_NAME.test(t)) throw new Error(`setupNodeWebGPU: dawnToggles.${what} '${t}' is not a Dawn toggle name (lower-case words joined by _)`);
  }
  return [base, ...(extra ?? [])].join(',');
}

let loaded: Promise<void> | null = null;
let loadedToggles = '';

async function load(options: { preferSwiftShader: boolean; toggles: [string, string] }): Promise<void> {
  if (options.preferSwiftShader && process.env.VK_ICD_FILENAMES == null && process.env.VK_DRIVER_FILES == null &&
      existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  let dawn: typeof import('webgpu');
  try {
    dawn = await import('webgpu');
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    // An optional peer dependency (Dawn's Node binding, ~130 MB with its binaries for every platform).
    throw new Error("WebGPU in Node needs the 'webgpu' package (Dawn): npm install webgpu. " +
      '(The analyze command also runs on --backend cpu without it.)');
  }
  const { create, globals } = dawn;
  Object.assign(globalThis, globals);
  // Dawn quantizes timestamps (to ~65 us on an H200) unless told not to; per-kernel times need raw values.
  const gpu = create([`enable-dawn-features=${options.toggles[0]}`, `disable-dawn-features=${options.toggles[1]}`]);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  await import('@tensorflow/tfjs-backend-webgpu');
}

/**
 * Makes navigator.gpu (Dawn) and registers tfjs's webgpu backend; idempotent. `preferSwiftShader`
 * (tests) selects Chromium's SwiftShader when no driver is named in VK_ICD_FILENAMES. `dawnToggles` adds Dawn
 * toggles to the two every instance gets (allow_unsafe_apis for timestamps, timestamp_quantization off); the
 * benchmarks use it for A/B runs (bench:models --dawn-enable). A second call asking for other toggles throws:
 * Dawn's instance exists once per process.
 */
export async function setupNodeWebGPU(options: { preferSwiftShader?: boolean; dawnToggles?: DawnToggles } = {}): Promise<void> {
  const toggles: [string, string] = [toggleList('allow_unsafe_apis', options.dawnToggles?.enable, 'enable'),
    toggleList('timestamp_quantization', options.dawnToggles?.disable, 'disable')];
  const key = toggles.join(' / ');
  if (loaded != null && key !== loadedToggles) {
    throw new Error(`setupNodeWebGPU: Dawn is already set up with toggles ${loadedToggles}; asked for ${key}`);
  }
  loadedToggles = key;
  loaded ??= load({ preferSwiftShader: options.preferSwiftShader ?? false, toggles });
  return loaded;
}
