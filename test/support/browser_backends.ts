/** Backend set-up for karma specs: webgl and webgpu in headless Chromium; never silently skipped. */
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';

export type GpuBackend = 'webgl' | 'webgpu';
export const GPU_BACKENDS: GpuBackend[] = ['webgl', 'webgpu'];

export async function useBackend(name: GpuBackend): Promise<void> {
  tf.env().set('IS_TEST', true);
  tf.env().set('WEBGL_CPU_FORWARD', false);
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`backend ${name} is not available in this browser (no adapter / context)`);
  await tf.ready();
}

/** A fresh webgl backend for the flags in effect (tfjs reads some of them only when it creates the backend). */
async function freshWebGL(flags: Record<string, number | boolean>): Promise<void> {
  tf.removeBackend('webgl');
  tf.env().reset();
  for (const [name, value] of Object.entries(flags)) tf.env().set(name, value);
  tf.registerBackend('webgl', () => new MathBackendWebGL(), 2);
  await useBackend('webgl');
}

/**
 * Runs `f` on a new webgl backend created under `flags` (as on a device whose capabilities they describe, e.g.
 * WEBGL_VERSION 1 or WEBGL_FORCE_F16_TEXTURES), then restores a default webgl backend.
 */
export async function withWebGLFlags<T>(flags: Record<string, number | boolean>, f: () => Promise<T>): Promise<T> {
  await freshWebGL(flags);
  try {
    return await f();
  } finally {
    await freshWebGL({});
  }
}
