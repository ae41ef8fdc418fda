/** Backend set-up for karma specs: webgl and webgpu in headless Chromium; never silently skipped. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgl';
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
