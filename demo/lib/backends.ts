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

type Methods = Record<string, (...a: unknown[]) => unknown>;

/**
 * The method every GPU pass goes through: each WebGPU dispatch is a runWebGPUProgram call; each WebGL draw
 * is a GPGPUContext.executeProgram call, made by runWebGLProgram and by the fused blocks' multiple-render-
 * target passes alike (src/kernels/webgl/multi_target_pass.ts: those bypass runWebGLProgram).
 */
const PASS_METHOD: Partial<Record<string, { of: (backend: unknown) => Methods; name: string }>> = {
  webgpu: { of: (b) => b as Methods, name: 'runWebGPUProgram' },
  webgl: { of: (b) => (b as { gpgpu: Methods }).gpgpu, name: 'executeProgram' },
};

/**
 * Runs `fn` once and counts the GPU programs it launched (WebGPU dispatches or WebGL draw calls, pack and
 * unpack passes included); on cpu, the kernels it ran.
 */
export async function countGpuPasses(fn: () => Promise<void>): Promise<number> {
  const pass = PASS_METHOD[tf.getBackend()];
  if (pass == null) {
    const info = await tf.profile(fn);
    return info.kernels.length;
  }
  const backend = pass.of(tf.backend());
  const method = pass.name;
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
