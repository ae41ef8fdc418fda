/**
 * Cost model: FLOPs and compulsory device-memory bytes of one TF.js kernel invocation, from what
 * `tf.profile` reports per kernel (name, input shapes, output shapes). Browser-safe: no Node imports.
 *
 * Conventions (docs/analysis.md states them with the same words):
 * - a multiply-add counts 2 FLOPs (convolutions, matrix products);
 * - an elementwise op counts 1 FLOP per output element (a transcendental such as Erf or Exp too), except
 *   the few listed in ELEMENTWISE_FLOPS (e.g. SquaredDifference = 2);
 * - a reduction counts 1 FLOP per input element;
 * - compulsory bytes = every input (weights included) read once + every output written once, at
 *   `bytesPerElement` (4: float32); view kernels (Reshape, Identity, ...) move nothing and cost 0 bytes;
 * - a fused block counts the FLOPs of the stock layers it replaces, and its bytes are x, weights and y once.
 *
 * Attributes (strides, window sizes, transposes, activations) are not in tf.profile's report, so formulas
 * use shapes only; `KernelAttrs` lets a caller that knows them refine pooling windows and fused-op options.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type Activation, isActivation } from '../spec/activations.js';
import {
  type BlockSpec, convfirstSpec, convnextSpec, FUSED_CONVFIRST_BLOCK, FUSED_CONVNEXT_BLOCK, FUSED_LAYER_NORM,
} from '../spec/block_spec.js';
import { FUSED_PATCH_CONV } from '../spec/patch_conv.js';
import { FUSED_CLASSIFIER_HEAD } from '../spec/classifier_head.js';
import { type KernelRecord, traceKernels } from './kernel_trace.js';

export type Shape = readonly number[];

export interface KernelCost {
  /** Floating-point operations (multiply-add = 2). */
  flops: number;
  /** Compulsory device-memory bytes: inputs read once, outputs written once. */
  bytes: number;
  /** flops / bytes (0 when bytes is 0). */
  intensity: number;
  /** Which formula was used: 'conv2d', 'depthwise', 'matmul', 'elementwise', ..., or 'unknown'. */
  category: KernelCategory;
  /** The block spec a fused op was costed from. */
  spec?: BlockSpec;
}

export type KernelCategory = 'conv2d' | 'depthwise' | 'matmul' | 'elementwise' | 'reduction' | 'pooling' |
  'normalization' | 'softmax' | 'fused-block' | 'data-movement' | 'view' | 'composite' | 'unknown';

export interface KernelAttrs {
  /** Pooling window [h, w]; by default inferred as the input/output spatial ratio (window = stride). */
  filterSize?: readonly [number, number];
  /** Activation of a fused block; default 'gelu' for ConvNeXt, 'silu' for ConvFirst. */
  activation?: Activation;
  /** Whether a ConvFirst block adds its input; default true. */
  residual?: boolean;
  /** Whether a fused conv / matmul applies an activation after its bias (1 FLOP per output). */
  fusedActivation?: boolean;
  /**
   * A FusedPatchConv's one folded LayerNorm is its post-norm (over the output) rather than its pre-norm; a traced call's
   * attrs say which (recordedAttrs); without them inferred from its gamma's length (Cout and not Cin: post), pre when Cin = Cout.
   */
  postNorm?: boolean;
}

export interface CostOptions {
  /** Bytes per tensor element: 4 for float32 (the default), 2 for float16. */
  bytesPerElement?: number;
  /** Called with a short description of each step (a run of a large model on cpu takes seconds), for progress display. */
  onProgress?: (message: string) => void;
}

export const DEFAULT_BYTES_PER_ELEMENT = 4;

/**
 * FLOPs per element of each block activation when written with stock ops (one per elementwise op), so a
 * fused block counts what the unfused graph it replaces counts: exact GELU = x * 0.5 * (1 + erf(x / sqrt2))
 * is 5 ops; the tanh form 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))) is 8; SiLU = x * sigmoid(x) is 2.
 * A Record over Activation so a new activation cannot be forgotten here.
 */
export const ACTIVATION_FLOPS: Record<Activation, number> = {
  gelu: 5, gelu_tanh: 8, silu: 2, relu: 1, relu6: 1,
};

/** FLOPs per element of a LayerNorm over channels: mean, subtract, square, variance sum, scale by rsqrt,
 * gamma, beta (7 ops). */
export const LAYERNORM_FLOPS_PER_ELEMENT = 7;
/** FLOPs per normalized row (pixel) of a LayerNorm: the epsilon add and the rsqrt, as the stock composite does them. */
export const LAYERNORM_FLOPS_PER_ROW = 2;

/** FLOPs of a LayerNorm over the last axis of a tensor of `elements` elements in `rows` rows. */
export function layerNormFlops(elements: number, rows: number): number {
  return LAYERNORM_FLOPS_PER_ELEMENT * elements + LAYERNORM_FLOPS_PER_ROW * rows;
}

/** Elementwise kernels that cost more than one FLOP per output element. */
const ELEMENTWISE_FLOPS: Record<string, number> = {
  SquaredDifference: 2, Softplus: 2, Selu: 2, Elu: 2, LeakyRelu: 2, Prelu: 2, ClipByValue: 2,
};

const ELEMENTWISE = new Set([
  'Abs', 'Acos', 'Acosh', 'Add', 'Asin', 'Asinh', 'Atan', 'Atanh', 'Atan2', 'Ceil', 'ClipByValue', 'Cos', 'Cosh',
  'Elu', 'Equal', 'Erf', 'Exp', 'Expm1', 'Floor', 'FloorDiv', 'Greater', 'GreaterEqual', 'IsFinite', 'IsInf',
  'IsNan', 'LeakyRelu', 'Less', 'LessEqual', 'Log', 'Log1p', 'LogicalAnd', 'LogicalNot', 'LogicalOr',
  'LogicalXor', 'Maximum', 'Minimum', 'Mod', 'Multiply', 'Neg', 'NotEqual', 'Pow', 'Prelu', 'RealDiv',
  'Reciprocal', 'Relu', 'Relu6', 'Round', 'Rsqrt', 'Select', 'Selu', 'Sigmoid', 'Sign', 'Sin', 'Sinh',
  'Softplus', 'Sqrt', 'Square', 'SquaredDifference', 'Step', 'Sub', 'Tan', 'Tanh', 'BiasAdd',
]);
const REDUCTIONS = new Set(['Sum', 'Mean', 'Max', 'Min', 'Prod', 'All', 'Any', 'ArgMax', 'ArgMin', 'Cumsum',
  'Cumprod']);
const POOLING = new Set(['MaxPool', 'AvgPool']);
/** Kernels that only relabel a buffer: no device work at all. */
const VIEWS = new Set(['Reshape', 'Identity', 'ExpandDims', 'Squeeze']);
/** Kernels that copy or rearrange data without arithmetic. */
const DATA_MOVEMENT = new Set(['Transpose', 'Concat', 'Pack', 'Unpack', 'Slice', 'StridedSlice', 'SplitV',
  'PadV2', 'MirrorPad', 'Tile', 'GatherV2', 'GatherNd', 'Cast', 'Fill', 'ZerosLike', 'OnesLike', 'BroadcastTo',
  'Reverse', 'DepthToSpace', 'SpaceToBatchND', 'BatchToSpaceND', 'ResizeNearestNeighbor', 'Range']);

export function sizeOf(shape: Shape | null | undefined): number {
  if (shape == null) return 0;
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Rows of a tensor normalized over its last axis: the product of the other dims. */
function rowsOf(shape: Shape | null | undefined): number {
  return shape == null || shape.length === 0 ? 0 : sizeOf(shape.slice(0, -1));
}

function totalSize(shapes: ReadonlyArray<Shape | null | undefined>): number {
  let n = 0;
  for (const s of shapes) n += sizeOf(s);
  return n;
}

function finish(flops: number, bytes: number, category: KernelCategory, spec?: BlockSpec): KernelCost {
  const cost: KernelCost = { flops, bytes, intensity: bytes > 0 ? flops / bytes : 0, category };
  if (spec != null) cost.spec = spec;
  return cost;
}

/**
 * FLOPs of the stock layers a fused block replaces, over `pixels` = N*H*W positions:
 * spatial conv (2 k^2 G per output), conv bias, [LayerNorm], expand matmul + bias, activation, project
 * matmul + bias, [layer scale], [residual add].
 */
export function blockFlops(spec: BlockSpec, pixels: number): number {
  const { k, groupWidth: g, channels: c, hidden: d } = spec;
  let perPixel = 2 * k * k * g * c + c;
  if (spec.norm === 'layernorm') perPixel += layerNormFlops(c, 1);
  perPixel += 2 * c * d + d + ACTIVATION_FLOPS[spec.activation] * d + 2 * d * c + c;
  if (spec.layerScale) perPixel += c;
  if (spec.residual) perPixel += c;
  return perPixel * pixels;
}

/** Cost of a fused block op from its kernel input shapes (op order, see CONVNEXT_INPUTS / CONVFIRST_INPUTS). */
function fusedBlockCost(name: string, inputShapes: ReadonlyArray<Shape | null>, outputShapes: ReadonlyArray<Shape>,
  attrs: KernelAttrs, bytesPerElement: number): KernelCost {
  const [x, filter, , w1Or] = inputShapes;
  if (x == null || x.length !== 4 || filter == null || filter.length !== 4) {
    throw new Error(`cost model: ${name} needs x [N,H,W,C] and a 4-D filter, got ${JSON.stringify(inputShapes)}`);
  }
  let spec: BlockSpec;
  if (name === FUSED_CONVNEXT_BLOCK) {
    const w1 = inputShapes[5];
    if (w1 == null) throw new Error(`cost model: ${name} has no w1 input`);
    const hasLayerScale = inputShapes.length > 9 && inputShapes[9] != null;
    spec = convnextSpec(x, w1, filter, { epsilon: 1e-6, activation: attrs.activation ?? 'gelu' }, hasLayerScale);
  } else {
    const w1 = w1Or;
    if (w1 == null) throw new Error(`cost model: ${name} has no w1 input`);
    spec = convfirstSpec(x, w1, filter, { activation: attrs.activation ?? 'silu', residual: attrs.residual ?? true });
  }
  const pixels = x[0] * x[1] * x[2];
  const bytes = (totalSize(inputShapes) + totalSize(outputShapes)) * bytesPerElement;
  return finish(blockFlops(spec, pixels), bytes, 'fused-block', spec);
}

/**
 * Contraction depth K of a (batched) matmul whose transposes are unknown: the output's row count M is one
 * of a's two last dims, K is the other (when both equal M, K = M either way).
 */
function matmulDepth(a: Shape, out: Shape): number {
  const m = out[out.length - 2];
  const a1 = a[a.length - 2];
  const a2 = a[a.length - 1];
  return a1 === m ? a2 : a1;
}

/**
 * Cost of one kernel invocation. `inputShapes` are in the kernel's input order (as tf.profile lists them;
 * null for an absent optional input).
 */
export function kernelCost(name: string, inputShapes: ReadonlyArray<Shape | null>,
  outputShapes: ReadonlyArray<Shape>, attrs: KernelAttrs = {}, options: CostOptions = {}): KernelCost {
  const bpe = options.bytesPerElement ?? DEFAULT_BYTES_PER_ELEMENT;
  const outSize = totalSize(outputShapes);
  const bytes = (totalSize(inputShapes) + outSize) * bpe;
  const out = outputShapes[0];
  const extra = (hasBias: boolean) => (hasBias ? outSize : 0) + (attrs.fusedActivation ? outSize : 0);
  switch (name) {
    case 'Conv2D':
    case 'FusedConv2D': {
      // filter [kh, kw, Cin/groups, Cout]: each output element is kh*kw*Cin/groups multiply-adds.
      const f = inputShapes[1];
      if (f == null || f.length !== 4) throw new Error(`cost model: ${name} needs a 4-D filter`);
      return finish(2 * outSize * f[0] * f[1] * f[2] + extra(name === 'FusedConv2D' && inputShapes[2] != null),
        bytes, 'conv2d');
    }
    case 'DepthwiseConv2dNative':
    case 'FusedDepthwiseConv2D': {
      // filter [kh, kw, C, M]: output C*M channels, each kh*kw multiply-adds. With M = G this is the
      // reference's grouped conv and has the grouped conv's FLOPs.
      const f = inputShapes[1];
      if (f == null || f.length !== 4) throw new Error(`cost model: ${name} needs a 4-D filter`);
      return finish(2 * outSize * f[0] * f[1] + extra(name === 'FusedDepthwiseConv2D' && inputShapes[2] != null),
        bytes, 'depthwise');
    }
    case 'MatMul':
    case 'BatchMatMul':
    case '_FusedMatMul': {
      const a = inputShapes[0];
      if (a == null || out == null || a.length < 2) throw new Error(`cost model: ${name} needs a matrix input`);
      return finish(2 * outSize * matmulDepth(a, out) + extra(name === '_FusedMatMul' && inputShapes[2] != null),
        bytes, 'matmul');
    }
    case 'AddN':
      return finish(Math.max(0, inputShapes.length - 1) * outSize, bytes, 'elementwise');
    case 'FusedBatchNorm':
      // (x - mean) * rsqrt(var + eps) * scale + offset: 4 ops per element.
      return finish(4 * outSize, bytes, 'normalization');
    case FUSED_PATCH_CONV: {
      // conv2d's FLOPs, one add per output element for the bias, and each folded LayerNorm's (layerNormFlops):
      // the pre-norm over x (gamma, beta [Cin]), the post-norm over the output (postGamma, postBeta [Cout]).
      // Inputs x, filter, then the 1-D ones: bias?, gamma?, beta?, postGamma?, postBeta?.
      const f = inputShapes[1];
      const x = inputShapes[0];
      if (f == null || f.length !== 4 || x == null) throw new Error(`cost model: ${name} needs x and a 4-D filter`);
      const lengths = inputShapes.slice(2).filter((s) => s != null && s.length === 1).map((s) => s![0]);
      const hasBias = lengths.length % 2 === 1;
      const norms = lengths.slice(hasBias ? 1 : 0);
      const post = norms.length === 4 || (norms.length === 2 &&
        (attrs.postNorm ?? (norms[0] === f[3] && norms[0] !== f[2])));
      const pre = norms.length === 4 || (norms.length === 2 && !post);
      const norm = (pre ? layerNormFlops(sizeOf(x), rowsOf(x)) : 0) + (post ? layerNormFlops(outSize, rowsOf(out)) : 0);
      return finish(2 * outSize * f[0] * f[1] * f[2] + (hasBias ? outSize : 0) + norm, bytes, 'conv2d');
    }
    case FUSED_LAYER_NORM:
      // sum, subtract, square, sum, then * rstd * gamma + beta: 7 ops per element; + eps and rsqrt per row.
      return finish(layerNormFlops(outSize, rowsOf(out)), bytes, 'normalization');
    case FUSED_CLASSIFIER_HEAD: {
      // The layers it replaces: Mean over H, W (1 per input element), LayerNorm (7 per pooled element),
      // MatMul (2 C per output) and the bias add (1 per output). Inputs x, gamma, beta, weight [C, K], bias.
      const x = inputShapes[0];
      const w = inputShapes[3];
      if (x == null || x.length !== 4 || w == null || w.length !== 2) {
        throw new Error(`cost model: ${name} needs a 4-D x and a 2-D weight`);
      }
      return finish(sizeOf(x) + layerNormFlops(x[0] * x[3], x[0]) + 2 * outSize * w[0] + outSize, bytes, 'fused-block');
    }
    case 'Softmax':
    case 'LogSoftmax':
      // max, subtract, exp, sum, divide (or log).
      return finish(5 * outSize, bytes, 'softmax');
    case FUSED_CONVNEXT_BLOCK:
    case FUSED_CONVFIRST_BLOCK:
      return fusedBlockCost(name, inputShapes, outputShapes, attrs, bpe);
    default:
      break;
  }
  if (ELEMENTWISE.has(name)) return finish((ELEMENTWISE_FLOPS[name] ?? 1) * outSize, bytes, 'elementwise');
  if (REDUCTIONS.has(name)) return finish(sizeOf(inputShapes[0]), bytes, 'reduction');
  if (POOLING.has(name)) {
    const x = inputShapes[0];
    let window = attrs.filterSize;
    if (window == null && x != null && out != null && x.length === 4) {
      window = [Math.max(1, Math.round(x[1] / out[1])), Math.max(1, Math.round(x[2] / out[2]))];
    }
    return finish(outSize * (window ? window[0] * window[1] : 1), bytes, 'pooling');
  }
  if (VIEWS.has(name)) return finish(0, 0, 'view');
  if (DATA_MOVEMENT.has(name)) return finish(0, bytes, 'data-movement');
  return finish(0, bytes, 'unknown');
}

/** Kernels whose `activation` attribute, when not 'linear', adds one op per output after the bias. */
const FUSED_ACTIVATION_KERNELS = new Set(['FusedConv2D', 'FusedDepthwiseConv2D', '_FusedMatMul']);

/**
 * The cost-relevant attributes a traced kernel was called with (KernelRecord.attrs): a fused block's activation and
 * residual, a patch conv's one LayerNorm (pre or post), a pool's window, whether a fused conv / matmul applies an
 * activation. Unknown or malformed values are left out (the formulas' defaults apply).
 */
export function recordedAttrs(record: Pick<KernelRecord, 'name' | 'attrs'>): KernelAttrs {
  const a = record.attrs;
  if (a == null) return {};
  const out: KernelAttrs = {};
  if (record.name === FUSED_CONVNEXT_BLOCK || record.name === FUSED_CONVFIRST_BLOCK) {
    if (isActivation(a.activation)) out.activation = a.activation;
    if (typeof a.residual === 'boolean') out.residual = a.residual;
  } else if (record.name === FUSED_PATCH_CONV) {
    // Which LayerNorm a patch conv with one folded norm has: its gamma's length cannot tell when Cin = Cout.
    if (typeof a.postNorm === 'boolean' && typeof a.preNorm === 'boolean' && a.postNorm !== a.preNorm) out.postNorm = a.postNorm;
  } else if (POOLING.has(record.name)) {
    const f = a.filterSize;
    if (Number.isInteger(f)) out.filterSize = [f as number, f as number];
    else if (Array.isArray(f) && f.length === 2 && f.every(Number.isInteger)) out.filterSize = [f[0], f[1]];
  } else if (FUSED_ACTIVATION_KERNELS.has(record.name) && typeof a.activation === 'string') {
    out.fusedActivation = a.activation !== 'linear';
  }
  return out;
}

export interface RecordCost extends KernelCost {
  /** The kernel the cost formula used: the record's own name, or its single inner kernel's name. */
  kernel: string;
}

/**
 * Cost of a traced kernel record. A record without a formula of its own that wraps other kernels (a
 * customGrad scope such as `fusedConv2d__op`, or a composite kernel) costs what its inner kernels do:
 * FLOPs summed over them, bytes the outer record's inputs and outputs once.
 */
export function recordCost(record: Pick<KernelRecord, 'name' | 'inputShapes' | 'outputShapes' | 'nested' | 'attrs'>,
  given: KernelAttrs = {}, options: CostOptions = {}): RecordCost {
  // The call's own attributes, refined by what the caller says (attrsFor).
  const attrs = { ...recordedAttrs(record), ...given };
  const own = kernelCost(record.name, record.inputShapes, record.outputShapes, attrs, options);
  if (own.category !== 'unknown' || record.nested.length === 0) return { ...own, kernel: record.name };
  // Reshapes around the real kernel (tf.fused.matMul reshapes to 3-D and back) do not make it composite.
  const working = record.nested.filter((r) => kernelCost(r.name, r.inputShapes, r.outputShapes).category !== 'view');
  if (working.length === 1) {
    // Inner records carry their own call attributes; only the caller's pass down.
    const inner = recordCost(working[0], given, options);
    return { ...inner, bytes: own.bytes, intensity: own.bytes > 0 ? inner.flops / own.bytes : 0 };
  }
  const flops = record.nested.reduce((s, r) => s + recordCost(r, given, options).flops, 0);
  return { ...finish(flops, own.bytes, 'composite'), kernel: record.name };
}

/**
 * Kernels whose FLOPs a record's cost leaves out for want of a formula (counted as 0): the record itself, or, for a
 * composite without a formula of its own, the inner kernels that have none.
 */
export function uncountedKernels(record: Pick<KernelRecord, 'name' | 'inputShapes' | 'outputShapes' | 'nested'>): string[] {
  if (kernelCost(record.name, record.inputShapes, record.outputShapes).category !== 'unknown') return [];
  return record.nested.length === 0 ? [record.name] : record.nested.flatMap(uncountedKernels);
}

/** The warning for kernels without a FLOP formula, or null when every kernel had one. */
export function uncountedWarning(records: ReadonlyArray<Pick<KernelRecord, 'name' | 'inputShapes' | 'outputShapes' | 'nested'>>):
  string | null {
  const names = [...new Set(records.flatMap(uncountedKernels))];
  return names.length === 0 ? null
    : `no FLOP formula for kernel(s) ${names.join(', ')}: counted as 0 FLOPs, bytes = inputs + outputs`;
}

// ---------------------------------------------------------------------------------------------------------
// Whole-model counts: parameters from a GraphModel's weights, FLOPs from one profiled run.

/** The part of GraphModel model counting uses (tfjs-converter's GraphModel satisfies it). */
export interface CountableModel {
  readonly weights: { [name: string]: tf.Tensor[] };
  readonly inputs: ReadonlyArray<{ name: string; shape?: number[]; dtype: tf.DataType }>;
  execute(inputs: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap, outputs?: string | string[]): tf.Tensor | tf.Tensor[];
  executeAsync(inputs: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap, outputs?: string | string[]):
    Promise<tf.Tensor | tf.Tensor[]>;
}

export interface WeightNodeCost {
  name: string;
  shape: number[];
  dtype: string;
  params: number;
}

export interface KernelNodeCost {
  index: number;
  name: string;
  inputShapes: Array<number[] | null>;
  outputShapes: number[][];
  flops: number;
  bytes: number;
  category: KernelCategory;
  /** Weight tensors this kernel reads (graph node names). */
  weights: string[];
  /** Parameters charged to this kernel (each weight once, at its first reader). */
  params: number;
}

export interface ModelCost {
  inputShape: number[];
  /** Floating-point weight elements (int tensors such as shape constants are not parameters). */
  params: number;
  flops: number;
  /** One row per weight node of the graph. */
  weights: WeightNodeCost[];
  /** One row per kernel the inference dispatched, in order (nested kernels folded into their outer kernel),
   * with the FLOPs it performs and the weights it reads. */
  kernels: KernelNodeCost[];
  /** What makes the count incomplete: kernels without a FLOP formula (counted as 0), named. */
  warnings: string[];
}

export interface WeightUse {
  /** Names of the weight tensors the kernel reads. */
  weights: string[];
  /** Float weight elements first read by this kernel (a weight read by several kernels counts once, at the first). */
  params: number;
}

/**
 * Which weights each kernel reads, matched by the engine's data ids of its inputs, and the parameters it
 * is charged with (each weight once, at its first reader). Summed over the kernels, params equals the
 * model's parameter count minus weights no kernel reads (e.g. constants folded into attributes).
 */
export function attributeWeights(records: ReadonlyArray<Pick<KernelRecord, 'inputDataIds'>>,
  weights: { [name: string]: tf.Tensor[] }): WeightUse[] {
  const byId = new Map<object, { name: string; size: number }>();
  for (const [name, tensors] of Object.entries(weights)) {
    for (const t of tensors) {
      const id = (t as unknown as { dataId: object }).dataId;
      if (!byId.has(id)) byId.set(id, { name, size: isParameter(t) ? t.size : 0 });
    }
  }
  const charged = new Set<object>();
  return records.map((r) => {
    const use: WeightUse = { weights: [], params: 0 };
    for (const id of r.inputDataIds) {
      const w = id != null ? byId.get(id) : undefined;
      if (w == null) continue;
      use.weights.push(w.name);
      if (!charged.has(id!)) {
        charged.add(id!);
        use.params += w.size;
      }
    }
    return use;
  });
}

/** Scalars (LayerNorm epsilons, GELU constants) are graph constants, not learned parameters. */
function isParameter(t: { dtype: string; rank: number }): boolean {
  return t.dtype === 'float32' && t.rank > 0;
}

/** Parameters of a GraphModel: the element count of every floating-point weight tensor of rank >= 1. */
export function countParams(model: Pick<CountableModel, 'weights'>): { params: number; weights: WeightNodeCost[] } {
  const weights: WeightNodeCost[] = [];
  let params = 0;
  for (const [name, tensors] of Object.entries(model.weights)) {
    for (const t of tensors) {
      const count = isParameter(t) ? t.size : 0;
      params += count;
      weights.push({ name, shape: [...t.shape], dtype: t.dtype, params: count });
    }
  }
  return { params, weights };
}

/**
 * Parameters and FLOPs of `model` for one inference on an input of `inputShape` (zeros of the model's input
 * dtype), run on `backend` (default: the active one; the previous backend is restored afterwards).
 */
export async function countModelCost(model: CountableModel, inputShape: readonly number[], backend?: string,
  options: CostOptions = {}): Promise<ModelCost> {
  if (model == null || !Array.isArray(model.inputs) || typeof model.execute !== 'function') {
    throw new Error('countModelCost: model must be a GraphModel (tf.loadGraphModel gives one)');
  }
  if (model.inputs.length !== 1) {
    throw new Error(`countModelCost: the model has ${model.inputs.length} inputs; only single-input models are supported`);
  }
  if (!Array.isArray(inputShape) || !inputShape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`countModelCost: inputShape must be an array of positive integers, got ${JSON.stringify(inputShape)}`);
  }
  const previous = tf.getBackend();
  if (backend != null && backend !== previous && !(await tf.setBackend(backend))) {
    throw new Error(`countModelCost: backend '${backend}' failed to initialise`);
  }
  const input = tf.zeros([...inputShape], model.inputs[0].dtype);
  try {
    options.onProgress?.(`one traced run on ${tf.getBackend()}, input [${inputShape.join(', ')}]`);
    const trace = await traceKernels(() => {
      try {
        return model.execute(input);
      } catch (e) {
        if (/executeAsync/.test((e as Error).message)) return model.executeAsync(input);
        throw e;
      }
    });
    const uses = attributeWeights(trace.kernels, model.weights);
    const kernels = trace.kernels.map((k, index): KernelNodeCost => {
      const c = recordCost(k, {}, options);
      return { index, name: c.kernel, inputShapes: k.inputShapes, outputShapes: k.outputShapes, flops: c.flops,
        bytes: c.bytes, category: c.category, weights: uses[index].weights, params: uses[index].params };
    });
    const { params, weights } = countParams(model);
    const uncounted = uncountedWarning(trace.kernels);
    options.onProgress?.(`counted ${kernels.length} kernels`);
    return { inputShape: [...inputShape], params, flops: kernels.reduce((s, k) => s + k.flops, 0), weights, kernels,
      warnings: uncounted == null ? [] : [uncounted] };
  } finally {
    input.dispose();
    if (tf.getBackend() !== previous) await tf.setBackend(previous);
  }
}
