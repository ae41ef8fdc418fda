/**
 * A block as three packed passes on WebGL: (1) k x k grouped conv + bias, (2) expand matmul with the
 * block's norm folded in and the activation in the epilogue, (3) project matmul + bias + residual. Both
 * block families run through this one plan; what differs is read from the BlockSpec.
 *
 * The hidden tensor never leaves the kernel, so its layout is ours: the expand pass writes it with
 * several render targets (expandTargets(): T output channel pairs per fragment, T textures in the split
 * layout of pointwise_program.ts), which cuts its texel fetches per multiply-add; the project pass, whose
 * output must be tfjs's packed layout (one texture), reads the T textures as its inputs.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import type { BlockSpec } from '../../spec/block_spec.js';
import { allocatePackedOutputs, maxRenderTargets, runMultiTargetPass } from './multi_target_pass.js';
import { ensurePacked, inputLayout, outputLayout } from './packed_layout.js';
import { multiTargetPointwise, PointwiseProgram, splitShape } from './pointwise_program.js';
import { SpatialConvProgram } from './spatial_conv_program.js';

/** Prepared weights (see block_weights.ts): F [k*k*G, C], convBias [1, C], w1^T [D, C], aux1 [2, D],
 * w2^T [C, D], aux2 [2, C]. */
export interface BlockWeights {
  filter: TensorInfo; convBias: TensorInfo; w1: TensorInfo; aux1: TensorInfo; w2: TensorInfo; aux2: TensorInfo;
}

type Shape4 = [number, number, number, number];

/** Default render targets of the expand pass (see BENCHMARKS.md, "WebGL fused blocks"). */
const DEFAULT_EXPAND_TARGETS = 4;
let expandTargetsOverride: number | null = null;

/**
 * Overrides the expand pass's render targets (1 = the single-output pass through runWebGLProgram);
 * null restores the default. For benchmarks and tests.
 */
export function setExpandTargets(targets: number | null): void {
  if (targets != null && !(Number.isInteger(targets) && targets >= 1)) {
    throw new Error(`setExpandTargets: expected a positive integer or null, got ${targets}`);
  }
  expandTargetsOverride = targets;
}

/** Render targets the expand pass uses for a hidden width of d channels on this backend. */
export function expandTargets(backend: MathBackendWebGL, d: number): number {
  const wanted = expandTargetsOverride ?? DEFAULT_EXPAND_TARGETS;
  // No more targets than channel pairs (they would only write zeros) or than the context allows.
  return Math.max(1, Math.min(wanted, Math.ceil(d / 2), maxRenderTargets(backend.gpgpu)));
}

/** The block's packed inputs and weights, converted once per kernel call. */
export interface PassInputs { x: TensorInfo; wt: BlockWeights; temporaries: TensorInfo[] }

export function packInputs(backend: MathBackendWebGL, xInput: TensorInfo, weights: BlockWeights): PassInputs {
  const temporaries: TensorInfo[] = [];
  const packed = (t: TensorInfo) => {
    const p = ensurePacked(backend, t);
    if (p.temporary) temporaries.push(p.info);
    return p.info;
  };
  const x = packed(xInput);
  const wt = {
    filter: packed(weights.filter), convBias: packed(weights.convBias), w1: packed(weights.w1),
    aux1: packed(weights.aux1), w2: packed(weights.w2), aux2: packed(weights.aux2),
  };
  return { x, wt, temporaries };
}

const run = (backend: MathBackendWebGL, program: SpatialConvProgram | PointwiseProgram, inputs: TensorInfo[]) =>
  backend.runWebGLProgram(program, inputs, 'float32', undefined, /* preventEagerUnpackingOfOutput */ true);

/** Pass 1: k x k conv + bias, packed NHWC [N, H, W, C]. */
export function convPass(backend: MathBackendWebGL, spec: BlockSpec, p: PassInputs): TensorInfo {
  const shape = p.x.shape as Shape4;
  const layout = (t: TensorInfo) => inputLayout(backend, t);
  return run(backend, new SpatialConvProgram({
    shape, k: spec.k, groupWidth: spec.groupWidth,
    layouts: { X: layout(p.x), F: layout(p.wt.filter), Bias: layout(p.wt.convBias), out: outputLayout(shape) },
  }), [p.x, p.wt.filter, p.wt.convBias]);
}

/** Pass 2: the hidden tensor [N, H, W, D] as `targets` textures in split layout (1: tfjs's layout). */
export function expandPass(backend: MathBackendWebGL, spec: BlockSpec, p: PassInputs, conv: TensorInfo,
  targets = expandTargets(backend, spec.hidden)): TensorInfo[] {
  const [n, h, w, c] = p.x.shape as Shape4;
  const d = spec.hidden;
  const layout = (t: TensorInfo) => inputLayout(backend, t);
  const partShape = splitShape([n, h, w], d, targets);
  const options = {
    outShape: [n, h, w, d] as Shape4, inChannels: c, targets, inputParts: 1,
    layerNorm: spec.norm === 'layernorm' ? { epsilon: spec.epsilon } : null,
    activation: spec.activation, residual: false,
    layouts: { A: layout(conv), B: layout(p.wt.w1), Aux: layout(p.wt.aux1), out: outputLayout(partShape) },
  };
  if (targets === 1) return [run(backend, new PointwiseProgram(options), [conv, p.wt.w1, p.wt.aux1])];
  const hidden = allocatePackedOutputs(backend, partShape, targets);
  try {
    runMultiTargetPass(backend, multiTargetPointwise(options), [conv, p.wt.w1, p.wt.aux1], hidden);
  } catch (e) {
    for (const t of hidden) backend.disposeIntermediateTensorInfo(t);
    throw e;
  }
  return hidden;
}

/** Pass 3: project + bias (+ residual), the block's output in tfjs's packed layout. */
export function projectPass(backend: MathBackendWebGL, spec: BlockSpec, p: PassInputs, hidden: TensorInfo[]): TensorInfo {
  const shape = p.x.shape as Shape4;
  const layout = (t: TensorInfo) => inputLayout(backend, t);
  const inputs = [...hidden, p.wt.w2, p.wt.aux2, ...(spec.residual ? [p.x] : [])];
  return run(backend, new PointwiseProgram({
    outShape: shape, inChannels: spec.hidden, layerNorm: null, activation: null, residual: spec.residual,
    targets: 1, inputParts: hidden.length,
    layouts: { A: layout(hidden[0]), B: layout(p.wt.w2), Aux: layout(p.wt.aux2), R: layout(p.x), out: outputLayout(shape) },
  }), inputs);
}

/** Runs the three passes; returns the packed NHWC output. */
export function runBlockPasses(backend: MathBackendWebGL, spec: BlockSpec, xInput: TensorInfo,
  weights: BlockWeights): TensorInfo {
  const p = packInputs(backend, xInput, weights);
  const temporaries = p.temporaries;
  try {
    const conv = convPass(backend, spec, p);
    temporaries.push(conv);
    const hidden = expandPass(backend, spec, p, conv);
    temporaries.push(...hidden);
    return projectPass(backend, spec, p, hidden);
  } finally {
    for (const t of temporaries) backend.disposeIntermediateTensorInfo(t);
  }
}
