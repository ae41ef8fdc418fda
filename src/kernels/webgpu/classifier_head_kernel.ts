/**
 * FusedClassifierHead on webgpu: one dispatch of ClassifierHeadProgram; the reference composition (with the
 * plan's reason recorded, see lastClassifierHeadDecision) when the pooled rows do not fit workgroup memory.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { type ClassifierHeadAttrs, FUSED_CLASSIFIER_HEAD } from '../../spec/classifier_head.js';
import { classifierHeadReferenceKernel } from '../reference/reference_kernels.js';
import { poisonedOutput } from './block_kernels.js';
import { ClassifierHeadProgram } from './classifier_head_program.js';
import { planClassifierHead, recordClassifierHeadDecision } from './classifier_head_wgsl.js';
import { effectiveLimits } from './plan.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

export function classifierHeadWebGPUKernel(args: KernelArgs): tf.TensorInfo {
  const { x, gamma, beta, weight, bias } = args.inputs as Record<string, tf.TensorInfo>;
  const { epsilon } = args.attrs as unknown as ClassifierHeadAttrs;
  const backend = args.backend as WebGPUBackend;
  const [n, h, w, c] = x.shape;
  const choice = planClassifierHead({ n, hw: h * w, c, k: weight.shape[1] }, effectiveLimits(backend.device));
  recordClassifierHeadDecision(choice);
  if (!choice.ok) return classifierHeadReferenceKernel(args);
  const program = new ClassifierHeadProgram(choice.plan, epsilon);
  return backend.runWebGPUProgram(program, [x, gamma, beta, weight, bias], 'float32', undefined,
    poisonedOutput(backend, program.outputShape));
}

export const webgpuClassifierHeadKernelConfig: tf.KernelConfig = {
  kernelName: FUSED_CLASSIFIER_HEAD, backendName: 'webgpu', kernelFunc: classifierHeadWebGPUKernel as tf.KernelFunc,
};
