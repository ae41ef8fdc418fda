/**
 * FusedPatchConv on webgpu: plan, then the GEMM path (patch_conv_gemm.ts: [LayerNorm,] GEMM[, sum]; the pre-norm
 * folded past a small split GEMM, the post-norm in the GEMM's epilogue) or the direct kernel (PatchConvProgram, its
 * pre-norm folded into the weights cached per weight set; with split-K partials, then their sum); a post-norm that
 * did not fit an epilogue as a FusedLayerNorm dispatch after; the reference composition when no tiling fits the
 * adapter's limits.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { FUSED_PATCH_CONV, type PatchConvAttrs } from '../../spec/patch_conv.js';
import { patchConvReferenceKernel } from '../reference/reference_kernels.js';
import { poisonedOutput } from './block_kernels.js';
import { effectiveLimits } from './plan.js';
import { planPatchConvCached, recordPatchConvDecision } from './patch_conv_plan.js';
import { PatchConvFoldProgram, PatchConvProgram, patchConvSplitSumProgram, patchGemmNormSumProgram, patchGemmProgram,
  patchGemmSplitSumProgram } from './patch_conv_program.js';
import type { PatchConvPlan } from './patch_conv_plan.js';
import type { PatchGemmChoice } from './patch_conv_gemm.js';
import { LayerNormProgram } from './layer_norm_program.js';
import { layerNormPlan } from './layer_norm_wgsl.js';
import { cachedWeights } from './weight_cache.js';
import { patchConvFoldedOffsets } from './patch_conv_wgsl.js';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

export function patchConvWebGPUKernel(args: KernelArgs): tf.TensorInfo {
  const { x, filter, bias, gamma, beta, postGamma, postBeta } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  const attrs = args.attrs as unknown as PatchConvAttrs;
  const backend = args.backend as WebGPUBackend;
  const [n, h, w, cin] = x!.shape;
  const [k, , , cout] = filter!.shape;
  const choice = planPatchConvCached({ n, h, w, cin, cout, k, preNorm: attrs.preNorm, postNorm: attrs.postNorm },
    effectiveLimits(backend.device));
  recordPatchConvDecision(choice);
  if (!choice.ok) return patchConvReferenceKernel(args);
  const plan = choice.plan;
  const fold = () => foldedWeights(backend, attrs, filter!, bias, gamma!, beta!);
  const post = attrs.postNorm ? [postGamma!, postBeta!] : [];
  const conv = plan.gemm != null ?
    runPatchGemm(backend, plan, plan.gemm, attrs, x!, filter!, fold, bias, gamma, beta, post) :
    runDirect(backend, plan, attrs, x!, filter!, fold, bias);
  if (!attrs.postNorm || plan.gemm?.postNormFused) return conv;
  // The post-norm as its own dispatch (the direct kernel, a split GEMM, or a tile narrower than Cout).
  try {
    const norm = new LayerNormProgram(layerNormPlan(cout), attrs.postEpsilon, conv.shape);
    return backend.runWebGPUProgram(norm, [conv, ...post], 'float32', undefined, poisonedOutput(backend, norm.outputShape));
  } finally {
    backend.disposeData(conv.dataId);
  }
}

/** The direct kernel (patch_conv_wgsl.ts): one dispatch, or partials and their sum with split-K. */
function runDirect(backend: WebGPUBackend, plan: PatchConvPlan, attrs: PatchConvAttrs, x: tf.TensorInfo,
  filter: tf.TensorInfo, fold: () => tf.TensorInfo, bias?: tf.TensorInfo): tf.TensorInfo {
  const folded = attrs.preNorm ? fold() : null;
  const program = new PatchConvProgram(plan, attrs.epsilon, attrs.hasBias);
  const weights = folded ?? filter;
  const split = plan.kSplits > 1;
  const inputs = [x, weights, ...(attrs.hasBias && !attrs.preNorm && !split ? [bias!] : [])];
  const first = backend.runWebGPUProgram(program, inputs, 'float32', undefined,
    poisonedOutput(backend, program.outputShape));
  let result = first;
  if (split) {
    // Split-K: `first` holds the partials; sum them with the bias (b' inside the folded weights with preNorm).
    const sum = patchConvSplitSumProgram(plan, attrs.hasBias);
    const sumInputs = [first, ...(attrs.preNorm ? [weights] : attrs.hasBias ? [bias!] : [])];
    result = backend.runWebGPUProgram(sum, sumInputs, 'float32', undefined, poisonedOutput(backend, sum.outputShape));
    backend.disposeData(first.dataId);
  }
  if (folded) backend.disposeData(folded.dataId);
  return result;
}

/** The pre-LayerNorm folded into the filter and bias, [W' | b' | colSum'] (cached per weight set). */
function foldedWeights(backend: WebGPUBackend, attrs: PatchConvAttrs, filter: tf.TensorInfo, bias: tf.TensorInfo | undefined,
  gamma: tf.TensorInfo, beta: tf.TensorInfo): tf.TensorInfo {
  const [k, , cin, cout] = filter.shape;
  const depth = k * k * cin;
  const length = patchConvFoldedOffsets(depth, cin, cout).length;
  return cachedWeights(backend, 'patchConv', [filter, bias, gamma, beta], length, (out) => {
    const program = new PatchConvFoldProgram(depth, cin, cout, attrs.hasBias);
    backend.runWebGPUProgram(program, [filter, ...(attrs.hasBias ? [bias!] : []), gamma, beta], 'float32', undefined, out);
  });
}

/**
 * The GEMM path (patch_conv_gemm.ts): FusedLayerNorm when preNorm, the GEMM (with the post-norm in its epilogue
 * when gemm.postNormFused: inputs `post` = postGamma, postBeta), and the sum when split; with the pre-norm folded
 * (gemm.foldedNorm), the GEMM on raw x and the folded weights, then the normalizing sum.
 */
function runPatchGemm(backend: WebGPUBackend, plan: PatchConvPlan, gemm: PatchGemmChoice, attrs: PatchConvAttrs,
  x: tf.TensorInfo, filter: tf.TensorInfo, fold: () => tf.TensorInfo, bias: tf.TensorInfo | undefined,
  gamma: tf.TensorInfo | undefined, beta: tf.TensorInfo | undefined, post: tf.TensorInfo[]): tf.TensorInfo {
  const temporaries: tf.TensorInfo[] = [];
  try {
    if (gemm.foldedNorm) {
      const folded = fold();
      temporaries.push(folded);
      const program = patchGemmProgram(plan, gemm, false, attrs.postEpsilon);
      const partials = backend.runWebGPUProgram(program, [x, folded], 'float32', [{ type: 'int32', data: [plan.m] }],
        poisonedOutput(backend, program.outputShape));
      temporaries.push(partials);
      const sum = patchGemmNormSumProgram(plan, gemm.kSplits, attrs.epsilon);
      return backend.runWebGPUProgram(sum, [partials, folded], 'float32', undefined,
        poisonedOutput(backend, sum.outputShape));
    }
    let a = x;
    if (attrs.preNorm) {
      const norm = new LayerNormProgram(layerNormPlan(plan.cin), attrs.epsilon, x.shape);
      a = backend.runWebGPUProgram(norm, [x, gamma!, beta!], 'float32', undefined,
        poisonedOutput(backend, norm.outputShape));
      temporaries.push(a);
    }
    const split = gemm.kSplits > 1;
    const program = patchGemmProgram(plan, gemm, attrs.hasBias, attrs.postEpsilon);
    const out = backend.runWebGPUProgram(program, [a, filter, ...(attrs.hasBias && !split ? [bias!] : []),
      ...(gemm.postNormFused ? post : [])], 'float32', [{ type: 'int32', data: [plan.m] }],
      poisonedOutput(backend, program.outputShape));
    if (!split) return out;
    temporaries.push(out);
    const sum = patchGemmSplitSumProgram(plan, gemm.kSplits, attrs.hasBias);
    return backend.runWebGPUProgram(sum, [out, ...(attrs.hasBias ? [bias!] : [])], 'float32', undefined,
      poisonedOutput(backend, sum.outputShape));
  } finally {
    for (const t of temporaries) backend.disposeData(t.dataId);
  }
}

export const webgpuPatchConvKernelConfig: tf.KernelConfig = {
  kernelName: FUSED_PATCH_CONV, backendName: 'webgpu', kernelFunc: patchConvWebGPUKernel as tf.KernelFunc,
};
