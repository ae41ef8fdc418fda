/**
 * FusedPatchConv on webgpu: plan, fold the pre-LayerNorm into the weights (cached per weight set), one
 * dispatch of PatchConvProgram (two with split-K: partials, then PatchConvSplitSumProgram); the reference
 * composition when no tiling fits the adapter's limits.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { FUSED_PATCH_CONV, type PatchConvAttrs } from '../../spec/patch_conv.js';
import { patchConvReferenceKernel } from '../reference/reference_kernels.js';
import { poisonedOutput } from './block_kernels.js';
import { effectiveLimits } from './plan.js';
import { planPatchConv, recordPatchConvDecision } from './patch_conv_plan.js';
import { PatchConvFoldProgram, PatchConvProgram, PatchConvSplitSumProgram } from './patch_conv_program.js';
import { cachedWeights } from './weight_cache.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

export function patchConvWebGPUKernel(args: KernelArgs): tf.TensorInfo {
  const { x, filter, bias, gamma, beta } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  const attrs = args.attrs as unknown as PatchConvAttrs;
  const backend = args.backend as WebGPUBackend;
  const [n, h, w, cin] = x!.shape;
  const [k, , , cout] = filter!.shape;
  const choice = planPatchConv({ n, h, w, cin, cout, k, preNorm: attrs.preNorm }, effectiveLimits(backend.device));
  recordPatchConvDecision(choice);
  if (!choice.ok) return patchConvReferenceKernel(args);
  const plan = choice.plan;
  const depth = k * k * cin;
  const folded = attrs.preNorm ?
    cachedWeights(backend, 'patchConv', [filter, bias, gamma, beta], depth * cout + cout, (out) => {
      const fold = new PatchConvFoldProgram(depth, cin, cout, attrs.hasBias);
      backend.runWebGPUProgram(fold, [filter!, ...(attrs.hasBias ? [bias!] : []), gamma!, beta!], 'float32', undefined,
        out);
    }) : null;
  const program = new PatchConvProgram(plan, attrs.epsilon, attrs.hasBias);
  const weights = folded ?? filter!;
  const split = plan.kSplits > 1;
  const inputs = [x!, weights, ...(attrs.hasBias && !attrs.preNorm && !split ? [bias!] : [])];
  const first = backend.runWebGPUProgram(program, inputs, 'float32', undefined,
    poisonedOutput(backend, program.outputShape));
  let result = first;
  if (split) {
    // Split-K: `first` holds the partials; sum them with the bias (b' inside the folded weights with preNorm).
    const sum = new PatchConvSplitSumProgram(plan, attrs.hasBias);
    const sumInputs = [first, ...(attrs.preNorm ? [weights] : attrs.hasBias ? [bias!] : [])];
    result = backend.runWebGPUProgram(sum, sumInputs, 'float32', undefined, poisonedOutput(backend, sum.outputShape));
    backend.disposeData(first.dataId);
  }
  if (folded) backend.disposeData(folded.dataId);
  return result;
}

export const webgpuPatchConvKernelConfig: tf.KernelConfig = {
  kernelName: FUSED_PATCH_CONV, backendName: 'webgpu', kernelFunc: patchConvWebGPUKernel as tf.KernelFunc,
};
