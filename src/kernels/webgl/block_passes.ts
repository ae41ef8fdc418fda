/**
 * A block as three packed passes on WebGL: (1) k x k grouped conv + bias, (2) expand matmul with the
 * block's norm folded in and the activation in the epilogue, (3) project matmul + bias + residual. Both
 * block families run through this one plan; what differs is read from the BlockSpec.
 *
 * The hidden tensor never leaves the kernel, so its layout is ours: the expand pass writes it with
 * several render targets (expandShape(): pixel pairs x channel pairs per fragment, one texture per
 * target, the split layout of pointwise_program.ts), which cuts its texel fetches per multiply-add; the
 * project pass, whose output must be tfjs's packed layout (one texture), reads the parts as its inputs.
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

/**
 * The expand pass's fragment: `rowHalves` pixel pairs (1, or 2 from the two halves of the rows) x
 * `channelPairs` output channel pairs, one render target per texel (see pointwise_program.ts).
 */
export interface ExpandShape { rowHalves: 1 | 2; channelPairs: number }

/** Default expand fragment (see BENCHMARKS.md, "WebGL fused blocks"). */
const DEFAULT_EXPAND_SHAPE: ExpandShape = { rowHalves: 2, channelPairs: 4 };
let expandShapeOverride: ExpandShape | null = null;

/**
 * Overrides the expand pass's fragment shape ({ rowHalves: 1, channelPairs: 1 } = the single-output pass
 * through runWebGLProgram); null restores the default. For benchmarks and tests.
 */
export function setExpandShape(shape: ExpandShape | null): void {
  if (shape != null && !((shape.rowHalves === 1 || shape.rowHalves === 2) && Number.isInteger(shape.channelPairs) &&
    shape.channelPairs >= 1)) {
    throw new Error(`setExpandShape: expected { rowHalves: 1 | 2, channelPairs: positive integer } or null, got ${JSON.stringify(shape)}`);
  }
  expandShapeOverride = shape;
}

/** The expand fragment used for a block of NHWC input `shape` and hidden width d on this backend. */
export function expandShape(backend: MathBackendWebGL, shape: readonly number[], d: number): ExpandShape {
  const wanted = expandShapeOverride ?? DEFAULT_EXPAND_SHAPE;
  const maxTargets = maxRenderTargets(backend.gpgpu);
  // One pixel-pair row has no second half; no more channel pairs than the hidden has (they would only
  // write zeros) and no more targets than the context allows.
  const rows = shape[0] * shape[1] * Math.ceil(shape[2] / 2);
  const rowHalves = rows > 1 && wanted.rowHalves === 2 && maxTargets >= 2 ? 2 : 1;
  const channelPairs = Math.max(1, Math.min(wanted.channelPairs, Math.ceil(d / 2), Math.floor(maxTargets / rowHalves)));
  return { rowHalves, channelPairs };
}

/** The hidden tensor in split layout: its parts and how it is split. */
export interface Hidden { parts: TensorInfo[]; shape: ExpandShape }

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

/** Pass 2: the hidden tensor [N, H, W, D] in split layout (one part: tfjs's layout). */
export function expandPass(backend: MathBackendWebGL, spec: BlockSpec, p: PassInputs, conv: TensorInfo,
  shape = expandShape(backend, p.x.shape, spec.hidden)): Hidden {
  const [n, h, w, c] = p.x.shape as Shape4;
  const d = spec.hidden;
  const layout = (t: TensorInfo) => inputLayout(backend, t);
  const outShape: Shape4 = [n, h, w, d];
  const partShape = splitShape(outShape, d, shape.channelPairs, shape.rowHalves);
  const options = {
    outShape, inChannels: c, channelPairs: shape.channelPairs, rowHalves: shape.rowHalves,
    inputParts: 1, inputHalves: 1 as const,
    layerNorm: spec.norm === 'layernorm' ? { epsilon: spec.epsilon } : null,
    activation: spec.activation, residual: false,
    layouts: { A: layout(conv), B: layout(p.wt.w1), Aux: layout(p.wt.aux1), out: outputLayout(partShape) },
  };
  const targets = shape.channelPairs * shape.rowHalves;
  if (targets === 1) return { parts: [run(backend, new PointwiseProgram(options), [conv, p.wt.w1, p.wt.aux1])], shape };
  const parts = allocatePackedOutputs(backend, partShape, targets);
  try {
    runMultiTargetPass(backend, multiTargetPointwise(options), [conv, p.wt.w1, p.wt.aux1], parts);
  } catch (e) {
    for (const t of parts) backend.disposeIntermediateTensorInfo(t);
    throw e;
  }
  return { parts, shape };
}

/** Pass 3: project + bias (+ residual), the block's output in tfjs's packed layout. */
export function projectPass(backend: MathBackendWebGL, spec: BlockSpec, p: PassInputs, hidden: Hidden): TensorInfo {
  const shape = p.x.shape as Shape4;
  const layout = (t: TensorInfo) => inputLayout(backend, t);
  const inputs = [...hidden.parts, p.wt.w2, p.wt.aux2, ...(spec.residual ? [p.x] : [])];
  return run(backend, new PointwiseProgram({
    outShape: shape, inChannels: spec.hidden, layerNorm: null, activation: null, residual: spec.residual,
    channelPairs: 1, rowHalves: 1, inputParts: hidden.shape.channelPairs, inputHalves: hidden.shape.rowHalves,
    layouts: {
      A: layout(hidden.parts[0]), B: layout(p.wt.w2), Aux: layout(p.wt.aux2), R: layout(p.x), out: outputLayout(shape),
    },
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
    temporaries.push(...hidden.parts);
    return projectPass(backend, spec, p, hidden);
  } finally {
    for (const t of temporaries) backend.disposeIntermediateTensorInfo(t);
  }
}
