import * as tf from '@tensorflow/tfjs-core';
import { CONVFIRST_INPUTS, CONVNEXT_INPUTS, FUSED_CONVFIRST_BLOCK, FUSED_CONVNEXT_BLOCK, FUSED_LAYER_NORM }
  from '../spec/block_spec.js';
import { LAYER_NORM_INPUTS } from '../spec/layer_norm.js';
import { FUSED_PATCH_CONV, type PatchConvAttrs, patchConvInputNames } from '../spec/patch_conv.js';
import { CLASSIFIER_HEAD_INPUTS, FUSED_CLASSIFIER_HEAD } from '../spec/classifier_head.js';
import { classifierHeadGradConfig, convfirstGradConfig, convnextGradConfig, layerNormGradConfig, patchConvGradConfig }
  from './gradients.js';
import { referenceKernelConfigs } from './reference/reference_kernels.js';

/** Backends that get the reference kernels at import time; others get them on first use. */
const KNOWN_BACKENDS = ['cpu', 'wasm', 'webgl', 'webgpu', 'tensorflow'];

/**
 * Fused kernels contributed by backend modules (webgpu, webgl); they take precedence over the reference,
 * which still covers any kernel a backend module does not provide.
 */
const fusedKernels = new Map<string, tf.KernelConfig[]>();

export function addFusedKernels(backendName: string, configs: tf.KernelConfig[]): void {
  fusedKernels.set(backendName, [...(fusedKernels.get(backendName) ?? []), ...configs]);
}

/** Every kernel name the package registers. */
const KERNEL_NAMES = [FUSED_CONVNEXT_BLOCK, FUSED_CONVFIRST_BLOCK, FUSED_LAYER_NORM, FUSED_PATCH_CONV,
  FUSED_CLASSIFIER_HEAD];

/** Input names per kernel; a function of the attrs where optional inputs may be absent mid-list. */
const INPUT_NAMES: Record<string, readonly string[] | ((attrs: tf.NamedAttrMap) => readonly string[])> = {
  [FUSED_CONVNEXT_BLOCK]: CONVNEXT_INPUTS,
  [FUSED_CONVFIRST_BLOCK]: CONVFIRST_INPUTS,
  [FUSED_LAYER_NORM]: LAYER_NORM_INPUTS,
  [FUSED_PATCH_CONV]: (attrs) => patchConvInputNames(attrs as unknown as PatchConvAttrs),
  [FUSED_CLASSIFIER_HEAD]: CLASSIFIER_HEAD_INPUTS,
};

/**
 * The ops pass their inputs as an array (the engine's `saveAllInputs` needs one, and an optional input such
 * as layerScale can then simply be absent); kernel implementations see them by name.
 */
function withNamedInputs(config: tf.KernelConfig): tf.KernelConfig {
  const entry = INPUT_NAMES[config.kernelName];
  if (entry == null) return config;
  return {
    ...config,
    kernelFunc: (args) => {
      const names = typeof entry === 'function' ? entry(args.attrs ?? {}) : entry;
      const list = args.inputs as unknown as tf.TensorInfo[];
      const named: tf.NamedTensorInfoMap = {};
      for (let i = 0; i < list.length; i++) named[names[i]] = list[i];
      return config.kernelFunc({ ...args, inputs: named });
    },
  };
}

/**
 * The reference kernels registered here, as `kernel@backend`. An op run before the package root's import (through
 * tfjs-block-fusion/converter's graph ops) registers the reference for the active backend; the root's fused
 * kernels then replace those, or webgpu / webgl would run the reference for the rest of the session.
 */
const referenceRegistered = new Set<string>();

function registerFor(backendName: string): void {
  for (const config of fusedKernels.get(backendName) ?? []) {
    const key = `${config.kernelName}@${backendName}`;
    if (referenceRegistered.delete(key)) tf.unregisterKernel(config.kernelName, backendName);
    if (tf.getKernel(config.kernelName, backendName) == null) tf.registerKernel(withNamedInputs(config));
  }
  for (const config of referenceKernelConfigs(backendName)) {
    if (tf.getKernel(config.kernelName, backendName) != null) continue;
    tf.registerKernel(withNamedInputs(config));
    referenceRegistered.add(`${config.kernelName}@${backendName}`);
  }
}

let registered = false;

/** Registers the block, LayerNorm, patch conv and classifier head kernels on every known backend and their gradients. Idempotent. */
export function registerBlockKernels(): void {
  if (registered) return;
  registered = true;
  for (const b of KNOWN_BACKENDS) registerFor(b);
  tf.registerGradient(convnextGradConfig);
  tf.registerGradient(convfirstGradConfig);
  tf.registerGradient(layerNormGradConfig);
  tf.registerGradient(patchConvGradConfig);
  tf.registerGradient(classifierHeadGradConfig);
}

/** Gives a backend registered by the app under another name the reference kernels on first use. */
export function ensureKernelsForActiveBackend(): void {
  const backendName = tf.getBackend();
  if (KERNEL_NAMES.some((name) => tf.getKernel(name, backendName) == null)) registerFor(backendName);
}
