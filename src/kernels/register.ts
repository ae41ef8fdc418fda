import * as tf from '@tensorflow/tfjs-core';
import { FUSED_CONVFIRST_BLOCK, FUSED_CONVNEXT_BLOCK } from '../spec/block_spec.js';
import { convfirstGradConfig, convnextGradConfig } from './gradients.js';
import { referenceKernelConfigs } from './reference/reference_kernels.js';

/** Backends that get the reference kernels at import time; others get them on first use. */
const KNOWN_BACKENDS = ['cpu', 'wasm', 'webgl', 'webgpu', 'tensorflow'];

/** Fused kernels contributed by backend modules (webgpu, webgl); they take precedence over the reference. */
const fusedKernels = new Map<string, tf.KernelConfig[]>();

export function addFusedKernels(backendName: string, configs: tf.KernelConfig[]): void {
  fusedKernels.set(backendName, configs);
}

function registerFor(backendName: string): void {
  const configs = fusedKernels.get(backendName) ?? referenceKernelConfigs(backendName);
  for (const config of configs) {
    if (tf.getKernel(config.kernelName, backendName) == null) tf.registerKernel(config);
  }
}

let registered = false;

/** Registers both block kernels on every known backend and their gradients. Idempotent. */
export function registerBlockKernels(): void {
  if (registered) return;
  registered = true;
  for (const b of KNOWN_BACKENDS) registerFor(b);
  tf.registerGradient(convnextGradConfig);
  tf.registerGradient(convfirstGradConfig);
}

/** Gives a backend registered by the app under another name the reference kernels on first use. */
export function ensureKernelsForActiveBackend(): void {
  const backendName = tf.getBackend();
  if (tf.getKernel(FUSED_CONVNEXT_BLOCK, backendName) == null ||
      tf.getKernel(FUSED_CONVFIRST_BLOCK, backendName) == null) {
    registerFor(backendName);
  }
}
