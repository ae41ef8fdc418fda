/**
 * WebGPU kernel functions for FusedConvNeXtBlock and FusedConvFirstBlock: plan, fold weights (cached),
 * one dispatch of FusedBlockProgram (or two: split-hidden partials, then the split sum); the reference
 * composition when the plan says the kernel cannot run.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { type BlockSpec, type ConvFirstAttrs, type ConvNeXtAttrs, FUSED_CONVFIRST_BLOCK, FUSED_CONVNEXT_BLOCK,
  convfirstSpec, convnextSpec } from '../../spec/block_spec.js';
import { convfirstReferenceKernel, convnextReferenceKernel } from '../reference/reference_kernels.js';
import { blockSplitSumProgram, FusedBlockProgram, mlpGemmProgram } from './block_program.js';
import type { BlockPhases } from './block_wgsl.js';
import { effectiveLimits, type GemmMlpTiles, planBlockCached, recordDecision } from './plan.js';
import { type MlpWeightInputs, packedMlpWeights } from './weight_cache.js';

type Inputs = Record<string, tf.TensorInfo>;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/**
 * 'conv+expand': gemm-mlp's first two dispatches only (the project GEMM's time is the rest); 'conv-nonorm': the
 * conv dispatch without its LayerNorm (the norm's share of it).
 */
type ProfilingPhases = BlockPhases | 'conv+expand' | 'conv-nonorm';
let phases: ProfilingPhases = 'all';
/** Benchmark only: run a partial kernel ('conv', 'mlp', 'conv+expand'; wrong results) to split the time by phase. */
export function setFusedPhasesForProfiling(p: ProfilingPhases): void { phases = p; }

let poisonOutputs = false;
/** Test mode: fill every fused output with NaN before the dispatch, so unwritten elements show up. */
export function setPoisonFusedOutputs(on: boolean): void { poisonOutputs = on; }

/** In poison mode, a NaN-filled output for a program (the LayerNorm kernel uses it too); else undefined. */
export function poisonedOutput(backend: WebGPUBackend, shape: number[]): tf.TensorInfo | undefined {
  return poisonOutputs ?
    backend.makeTensorInfo(shape, 'float32', new Float32Array(tf.util.sizeFromShape(shape)).fill(NaN)) : undefined;
}

function runFused(backend: WebGPUBackend, spec: BlockSpec, kernel: string, x: tf.TensorInfo, filter: tf.TensorInfo,
  bias: tf.TensorInfo, mlp: MlpWeightInputs, fallback: () => tf.TensorInfo): tf.TensorInfo {
  const plan = planBlockCached(kernel, spec, x.shape, effectiveLimits(backend.device));
  recordDecision(plan);
  if (!plan.fused || plan.tiling == null) return fallback();
  // The per-phase profiling kernels exist for the one-dispatch form only; 'conv' under gemm-mlp is its dispatch 1.
  if (phases === 'conv-nonorm') spec = { ...spec, norm: 'none' };
  const convOnly = phases === 'conv' || phases === 'conv-nonorm';
  const tiling = phases === 'all' ? plan.tiling : convOnly && plan.gemm != null ? plan.gemm.conv :
    { ...plan.tiling, hiddenSplits: 1 };
  const packed = packedMlpWeights(backend, mlp);
  if (plan.variant === 'gemm-mlp' && plan.gemm != null && (phases === 'all' || phases === 'conv+expand')) {
    return runGemmMlp(backend, spec, x, filter, bias, packed, plan.gemm, phases === 'conv+expand');
  }
  const program = new FusedBlockProgram(spec, tiling, x.shape,
    phases === 'conv+expand' || phases === 'conv-nonorm' ? 'conv' : phases);
  const first = backend.runWebGPUProgram(program, [x, filter, bias, packed], 'float32', undefined,
    poisonedOutput(backend, program.outputShape));
  if (tiling.hiddenSplits === 1) {
    backend.disposeData(packed.dataId);
    return first;
  }
  // Split-hidden: `first` holds the partial projections; sum them with b2' and the residual.
  const sum = blockSplitSumProgram(spec, tiling.hiddenSplits, x.shape);
  const result = backend.runWebGPUProgram(sum, spec.residual ? [first, packed, x] : [first, packed], 'float32',
    undefined, poisonedOutput(backend, [...x.shape]));
  backend.disposeData(first.dataId);
  backend.disposeData(packed.dataId);
  return result;
}

/**
 * The 'gemm-mlp' variant: conv + norm to [P, C], expand GEMM to [P, D], project GEMM to the output (or, split-K,
 * to partials that a fourth dispatch sums).
 */
function runGemmMlp(backend: WebGPUBackend, spec: BlockSpec, x: tf.TensorInfo, filter: tf.TensorInfo,
  bias: tf.TensorInfo, packed: tf.TensorInfo, gemm: GemmMlpTiles, stopAfterExpand = false): tf.TensorInfo {
  const rows = x.shape[0] * x.shape[1] * x.shape[2];
  const uniforms = [{ type: 'int32', data: [rows] }];
  const temporaries: tf.TensorInfo[] = [packed];
  try {
    const convProgram = new FusedBlockProgram(spec, gemm.conv, x.shape, 'conv');
    const conv = backend.runWebGPUProgram(convProgram, [x, filter, bias, packed], 'float32', undefined,
      poisonedOutput(backend, convProgram.outputShape));
    temporaries.push(conv);
    const a = { ...conv, shape: [rows, spec.channels] };
    const expand = mlpGemmProgram('expand', spec, gemm.expand, x.shape);
    const hidden = backend.runWebGPUProgram(expand, [a, packed], 'float32', uniforms,
      poisonedOutput(backend, expand.outputShape));
    if (stopAfterExpand) return hidden;
    temporaries.push(hidden);
    const splits = gemm.projectSplits;
    const project = mlpGemmProgram('project', spec, gemm.project, x.shape, splits);
    const projected = backend.runWebGPUProgram(project, spec.residual && splits === 1 ? [hidden, packed, x] :
      [hidden, packed], 'float32', uniforms, poisonedOutput(backend, project.outputShape));
    if (splits === 1) return projected;
    // Split-K: sum the partial projections with b2' and the residual (the split-hidden variant's dispatch 2).
    temporaries.push(projected);
    const sum = blockSplitSumProgram(spec, splits, x.shape);
    return backend.runWebGPUProgram(sum, spec.residual ? [projected, packed, x] : [projected, packed], 'float32',
      undefined, poisonedOutput(backend, [...x.shape]));
  } finally {
    for (const t of temporaries) backend.disposeData(t.dataId);
  }
}

export function convnextWebGPUKernel(args: KernelArgs): tf.TensorInfo {
  const { x, dwFilter, dwBias, lnGamma, lnBeta, w1, b1, w2, b2, layerScale } = args.inputs as Inputs;
  const attrs = args.attrs as unknown as ConvNeXtAttrs;
  const spec = convnextSpec(x.shape, w1.shape, dwFilter.shape, attrs, layerScale != null);
  return runFused(args.backend as WebGPUBackend, spec, FUSED_CONVNEXT_BLOCK, x, dwFilter, dwBias,
    { w1, b1, w2, b2, gamma: lnGamma, beta: lnBeta, scale: layerScale },
    () => convnextReferenceKernel(args));
}

export function convfirstWebGPUKernel(args: KernelArgs): tf.TensorInfo {
  const { x, filter, bias, w1, b1, w2, b2 } = args.inputs as Inputs;
  const attrs = args.attrs as unknown as ConvFirstAttrs;
  const spec = convfirstSpec(x.shape, w1.shape, filter.shape, attrs);
  return runFused(args.backend as WebGPUBackend, spec, FUSED_CONVFIRST_BLOCK, x, filter, bias, { w1, b1, w2, b2 },
    () => convfirstReferenceKernel(args));
}

export const webgpuKernelConfigs: tf.KernelConfig[] = [
  { kernelName: FUSED_CONVNEXT_BLOCK, backendName: 'webgpu', kernelFunc: convnextWebGPUKernel as tf.KernelFunc },
  { kernelName: FUSED_CONVFIRST_BLOCK, backendName: 'webgpu', kernelFunc: convfirstWebGPUKernel as tf.KernelFunc },
];
