/**
 * A block as three packed passes on WebGL: (1) k x k grouped conv + bias, (2) expand matmul with the
 * block's norm folded in and the activation in the epilogue, (3) project matmul + bias + residual. Both
 * block families run through this one plan; what differs is read from the BlockSpec.
 *
 * The hidden tensor never leaves the kernel, so its layout is ours: the expand pass writes it with
 * several render targets (expandShape(): pixel pairs x channel pairs per fragment, one texture per
 * target, the split layout of pointwise_program.ts), which cuts its texel fetches per multiply-add; the
 * project pass reads the parts as its inputs. Its output must be one texture in tfjs's packed layout, so
 * with several targets (projectShape()) it writes parts that are rectangles of that texture (block split
 * layout) and copies them into it with framebuffer blits (no draw calls); where the output's texture is
 * not the plain texel grid the rectangles map onto, it is a single-output pass through runWebGLProgram.
 */
import { env, type TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import type { BlockSpec } from '../../spec/block_spec.js';
import { allocatePackedOutputs, copyTexelRects, maxRenderTargets, runMultiTargetPass } from './multi_target_pass.js';
import { ensurePacked, inputLayout, isNatural, outputLayout, type PackedLayout, texelGrid } from './packed_layout.js';
import { blockSplitRects, multiTargetPointwise, PointwiseProgram, type PointwiseOptions, splitColumns,
  splitShape } from './pointwise_program.js';
import { SpatialConvProgram } from './spatial_conv_program.js';

/** Prepared weights (see block_weights.ts): F [k*k*G, C], convBias [1, C], w1^T [D, C], aux1 [2, D],
 * w2^T [C, D], aux2 [2, C]. */
export interface BlockWeights {
  filter: TensorInfo; convBias: TensorInfo; w1: TensorInfo; aux1: TensorInfo; w2: TensorInfo; aux2: TensorInfo;
}

type Shape4 = [number, number, number, number];

/**
 * A 1x1 pass's fragment: `rowHalves` pixel pairs (1, or 2 from the two halves of the rows) x
 * `channelPairs` output channel pairs, one render target per texel (see pointwise_program.ts).
 */
export interface FragmentShape { rowHalves: 1 | 2; channelPairs: number }
export type ExpandShape = FragmentShape;
export type ProjectShape = FragmentShape;

/** Default fragments (see BENCHMARKS.md, "WebGL fused blocks"). */
const DEFAULT_EXPAND_SHAPE: ExpandShape = { rowHalves: 2, channelPairs: 4 };
const DEFAULT_PROJECT_SHAPE: ProjectShape = { rowHalves: 2, channelPairs: 4 };
let expandShapeOverride: ExpandShape | null = null;
let projectShapeOverride: ProjectShape | null = null;

function checkShape(name: string, shape: FragmentShape | null): FragmentShape | null {
  if (shape != null && !((shape.rowHalves === 1 || shape.rowHalves === 2) && Number.isInteger(shape.channelPairs) &&
    shape.channelPairs >= 1)) {
    throw new Error(`${name}: expected { rowHalves: 1 | 2, channelPairs: positive integer } or null, got ${JSON.stringify(shape)}`);
  }
  return shape;
}

/**
 * Overrides the expand pass's fragment shape ({ rowHalves: 1, channelPairs: 1 } = the single-output pass
 * through runWebGLProgram); null restores the default. For benchmarks and tests.
 */
export function setExpandShape(shape: ExpandShape | null): void {
  expandShapeOverride = checkShape('setExpandShape', shape);
}

/**
 * Overrides the project pass's fragment shape ({ rowHalves: 1, channelPairs: 1 } = the single-output pass
 * writing tfjs's texture directly, no blits); null restores the default. For benchmarks and tests.
 */
export function setProjectShape(shape: ProjectShape | null): void {
  projectShapeOverride = checkShape('setProjectShape', shape);
}

/**
 * `wanted` fitted to a pass writing `channels` channels of NHWC `shape`: one pixel-pair row has no second
 * half; no more channel pairs than there are (they would only write zeros) and no more targets than the
 * context allows.
 */
function fitShape(backend: MathBackendWebGL, wanted: FragmentShape, shape: readonly number[], channels: number):
  FragmentShape {
  const maxTargets = maxRenderTargets(backend.gpgpu);
  const rows = shape[0] * shape[1] * Math.ceil(shape[2] / 2);
  const rowHalves = rows > 1 && wanted.rowHalves === 2 && maxTargets >= 2 ? 2 : 1;
  const channelPairs = Math.max(1, Math.min(wanted.channelPairs, Math.ceil(channels / 2), Math.floor(maxTargets / rowHalves)));
  return { rowHalves, channelPairs };
}

/** The expand fragment used for a block of NHWC input `shape` and hidden width d on this backend. */
export function expandShape(backend: MathBackendWebGL, shape: readonly number[], d: number): ExpandShape {
  return fitShape(backend, expandShapeOverride ?? DEFAULT_EXPAND_SHAPE, shape, d);
}

/**
 * The project fragment used for a block of NHWC input `shape` (c channels) on this backend, before the
 * texture check in projectPass. Its channel parts are blocks of Q = ceil(ceil(c / 2) / T) pairs, so only
 * ceil(ceil(c / 2) / Q) of them are non-empty (e.g. 5 pairs, T = 4: Q = 2, 3 parts).
 */
export function projectShape(backend: MathBackendWebGL, shape: readonly number[], c: number): ProjectShape {
  const fitted = fitShape(backend, projectShapeOverride ?? DEFAULT_PROJECT_SHAPE, shape, c);
  const channelPairs = Math.ceil(Math.ceil(c / 2) / splitColumns(c, fitted.channelPairs));
  return { rowHalves: fitted.rowHalves, channelPairs };
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

/**
 * Whether tfjs renders to half-float textures (no float32 render targets, or WEBGL_FORCE_F16_TEXTURES): the
 * texture manager reads this flag for every texture it allocates, the prepared weights' included.
 */
function halfFloatTextures(): boolean {
  return !env().getBool('WEBGL_RENDER_FLOAT32_ENABLED');
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
    layerNorm: spec.norm === 'layernorm' ? { epsilon: spec.epsilon, weightSumsInShader: halfFloatTextures() } : null,
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

/**
 * Pass 3: project + bias (+ residual), the block's output in tfjs's packed layout. With several targets
 * (`shape`), one draw writes the output's parts in block split layout and blits copy them into the
 * output texture, when that texture is the plain grid of [pixel-pair rows, channel pairs] texels that
 * the parts are rectangles of; otherwise (squarified textures) a single-output draw.
 */
export function projectPass(backend: MathBackendWebGL, spec: BlockSpec, p: PassInputs, hidden: Hidden,
  shape = projectShape(backend, p.x.shape, spec.channels)): TensorInfo {
  const outShape = p.x.shape as Shape4;
  const layout = (t: TensorInfo) => inputLayout(backend, t);
  const inputs = [...hidden.parts, p.wt.w2, p.wt.aux2, ...(spec.residual ? [p.x] : [])];
  const options = (s: ProjectShape, out: PackedLayout): PointwiseOptions => ({
    outShape, inChannels: spec.hidden, layerNorm: null, activation: null, residual: spec.residual,
    channelPairs: s.channelPairs, rowHalves: s.rowHalves, outputSplit: 'blocks',
    inputParts: hidden.shape.channelPairs, inputHalves: hidden.shape.rowHalves,
    layouts: { A: layout(hidden.parts[0]), B: layout(p.wt.w2), Aux: layout(p.wt.aux2), R: layout(p.x), out },
  });
  if (shape.rowHalves * shape.channelPairs > 1) {
    const y = projectToParts(backend, outShape, shape, inputs, (out) => options(shape, out));
    if (y != null) return y;
  }
  return run(backend, new PointwiseProgram(options({ rowHalves: 1, channelPairs: 1 }, outputLayout(outShape))), inputs);
}

/** Is `l` the plain texel grid of `shape` (one texture row per texel row, nothing wrapped)? */
function isPlainGrid(l: PackedLayout, shape: readonly number[]): boolean {
  return isNatural(l) && l.texHeight === texelGrid(shape).rows;
}

/**
 * The multi-target project: parts drawn in one pass, then blitted into a new output tensor allocated
 * through tfjs. Null (nothing allocated) when the output's or the parts' textures are not plain grids.
 */
function projectToParts(backend: MathBackendWebGL, outShape: Shape4, shape: ProjectShape, inputs: TensorInfo[],
  options: (out: PackedLayout) => PointwiseOptions): TensorInfo | null {
  const c = outShape[3];
  const partShape = splitShape(outShape, c, shape.channelPairs, shape.rowHalves);
  if (!isPlainGrid(outputLayout(outShape), outShape) || !isPlainGrid(outputLayout(partShape), partShape)) return null;
  const [output] = allocatePackedOutputs(backend, outShape, 1);
  const parts = allocatePackedOutputs(backend, partShape, shape.rowHalves * shape.channelPairs);
  try {
    // tfjs's texture shape rule, not our prediction of it, decides: the texture manager's texShape.
    if (!isPlainGrid(inputLayout(backend, output), outShape) || !isPlainGrid(inputLayout(backend, parts[0]), partShape)) {
      backend.disposeIntermediateTensorInfo(output);
      return null;
    }
    runMultiTargetPass(backend, multiTargetPointwise(options(inputLayout(backend, parts[0]))), inputs, parts);
    copyTexelRects(backend, output, blockSplitRects(outShape, c, shape.channelPairs, shape.rowHalves).map((r) =>
      ({ source: parts[r.part], x: r.x, y: r.y, width: r.width, height: r.height })));
  } catch (e) {
    backend.disposeIntermediateTensorInfo(output);
    throw e;
  } finally {
    for (const t of parts) backend.disposeIntermediateTensorInfo(t);
  }
  return output;
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
