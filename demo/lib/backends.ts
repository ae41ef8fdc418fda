/** Which TF.js backends this browser can run, and counting GPU passes (dispatches / draw calls). */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';

export const BACKENDS = ['webgpu', 'webgl', 'cpu'] as const;
export type BackendName = typeof BACKENDS[number];

export interface BackendAvailability { name: BackendName; available: boolean; reason?: string }

async function probe(name: BackendName): Promise<BackendAvailability> {
  if (name === 'webgpu') {
    const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
    if (gpu == null) return { name, available: false, reason: 'this browser has no WebGPU (navigator.gpu)' };
    const adapter = await gpu.requestAdapter().catch(() => null);
    if (adapter == null) return { name, available: false, reason: 'no WebGPU adapter (GPU blocklisted or disabled)' };
  }
  if (name === 'webgl') {
    const gl = document.createElement('canvas').getContext('webgl2');
    if (gl == null) return { name, available: false, reason: 'no WebGL2 context' };
    gl.getExtension('WEBGL_lose_context')?.loseContext();
  }
  return { name, available: true };
}

export function probeBackends(): Promise<BackendAvailability[]> {
  return Promise.all(BACKENDS.map(probe));
}

export async function activateBackend(name: BackendName): Promise<void> {
  // Small ops must really run on the GPU backend being measured.
  tf.env().set('WEBGL_CPU_FORWARD', false);
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} failed to initialise`);
  await tf.ready();
}

const PASS_METHOD: Partial<Record<string, string>> = { webgpu: 'runWebGPUProgram', webgl: 'runWebGLProgram' };

/**
 * Runs `fn` once and counts the GPU programs it launched (WebGPU dispatches or WebGL draw calls, pack and
 * unpack passes included); on cpu, the kernels it ran.
 */
export async function countGpuPasses(fn: () => Promise<void>): Promise<number> {
  const method = PASS_METHOD[tf.getBackend()];
  if (method == null) {
    const info = await tf.profile(fn);
    return info.kernels.length;
  }
  const backend = tf.backend() as unknown as Record<string, (...a: unknown[]) => unknown>;
  const original = backend[method];
  let passes = 0;
  backend[method] = function (this: unknown, ...args: unknown[]) {
    passes++;
    return original.apply(this, args);
  };
  try {
    await fn();
  } finally {
    backend[method] = original;
  }
  return passes;
}
