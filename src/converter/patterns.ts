/**
 * Structural pattern helpers shared by the fusion passes. Everything matches on op types, edges and
 * constant values, never on node names. Each helper takes a value name and returns what it found (or
 * undefined), recording the nodes it consumed in `Match.nodes` so the pass can check they are private to
 * the block.
 */
import type { Activation } from '../spec/activations.js';
import { transposeConst } from './const_eval.js';
import { attrInts, attrStr, type ConstTensor, Graph, type IRNode, tensorSize, valueIndex, valueNode } from './ir.js';

export class GraphView {
  readonly producers: Map<string, IRNode>;
  readonly consumers: Map<string, IRNode[]>;
  readonly outputs: Set<string>;
  constructor(readonly graph: Graph) {
    this.producers = graph.producerMap();
    this.consumers = graph.consumerMap();
    this.outputs = new Set(graph.outputs);
  }

  /** The node producing output 0 of `value` (undefined for inputs, constants and outputs > 0). */
  node(value: string, ...ops: string[]): IRNode | undefined {
    if (valueIndex(value) !== 0) return undefined;
    const n = this.producers.get(valueNode(value));
    if (n == null) return undefined;
    if (ops.length > 0 && !ops.includes(n.op)) return undefined;
    return n;
  }

  /** The constant behind a value, looking through Identity nodes. */
  constant(value: string): ConstTensor | undefined {
    let v = value;
    for (let i = 0; i < 8; i++) {
      const c = this.graph.constants.get(v);
      if (c) return c;
      const id = this.node(v, 'Identity');
      if (id == null) return undefined;
      v = id.inputs[0];
    }
    return undefined;
  }

  /** Number of readers of a value (graph outputs count as readers). */
  uses(value: string): number {
    return (this.consumers.get(value)?.length ?? 0) + (this.outputs.has(value) ? 1 : 0);
  }
}

const SHAPE_OPS = new Set(['Shape', 'StridedSlice', 'ConcatV2', 'GatherV2', 'Prod', 'Pack', 'Cast', 'Squeeze',
  'ExpandDims', 'Slice', 'Identity']);

/**
 * Adds the shape arithmetic computing a Reshape target (Shape -> GatherV2 / Prod / Pack / ConcatV2 ...,
 * as dynamic-batch exports make) to the match: it dies with the block.
 */
export function addShapeSubgraph(v: GraphView, m: Match, value: string): void {
  const n = v.node(value);
  if (n == null || !SHAPE_OPS.has(n.op) || m.nodes.has(n)) return;
  m.add(n);
  if (n.op !== 'Shape') for (const i of n.inputs) addShapeSubgraph(v, m, i);
}

/** Nodes a match consumed; the pass checks that only the block reads their outputs. */
export class Match {
  readonly nodes = new Set<IRNode>();
  add(n: IRNode): IRNode { this.nodes.add(n); return n; }
}

/**
 * A structural constant's value (GELU's 0.5, 1, 1/sqrt 2, ...) with the relative error its storage allows: float32
 * rounding (a few ulps, as products of float32 factors), or float16 / quantized rounding. A constant further off than
 * that is another function, which the fused op's exact activation would silently replace.
 */
interface Approx { value: number; tol: number }

const FLOAT32_TOL = 1e-6;
const STORED_LOW_PRECISION_TOL = 1e-3;

function approxScalar(t: ConstTensor | undefined): Approx | undefined {
  const value = scalarValue(t);
  if (value == null) return undefined;
  return { value, tol: t?.precision == null || t.precision === 'float32' ? FLOAT32_TOL : STORED_LOW_PRECISION_TOL };
}

/** `a` equals `b` within a's own rounding (relative). */
const near = (a: Approx | undefined, b: number): boolean => a != null && Math.abs(a.value - b) <= a.tol * Math.abs(b);

/** A constant whose elements form a per-channel vector of length `c` (shape [c] or [1, ..., 1, c]). */
export function channelVector(t: ConstTensor | undefined, c?: number): Float32Array | undefined {
  if (t == null || t.dtype !== 'float32' || t.shape.length === 0) return undefined;
  const last = t.shape[t.shape.length - 1];
  if (tensorSize(t.shape) !== last || (c != null && last !== c)) return undefined;
  return t.data as Float32Array;
}

export function scalarValue(t: ConstTensor | undefined): number | undefined {
  return t != null && t.dtype === 'float32' && t.data.length === 1 ? t.data[0] : undefined;
}

/** For commutative binary nodes: [the non-constant input, the constant] in either order. */
export function splitConst(v: GraphView, n: IRNode): [string, ConstTensor] | undefined {
  const [a, b] = n.inputs;
  const cb = v.constant(b);
  if (cb && !v.constant(a)) return [a, cb];
  const ca = v.constant(a);
  if (ca && !cb && (n.op === 'AddV2' || n.op === 'Add' || n.op === 'Mul')) return [b, ca];
  return undefined;
}

export function isAdd(n: IRNode | undefined): boolean {
  return n != null && (n.op === 'AddV2' || n.op === 'Add');
}

/** Reduction axes of a Mean node, normalized to the last axis of a rank-4 tensor when possible. */
export function meanIsLastAxis(v: GraphView, n: IRNode): boolean {
  const axes = v.constant(n.inputs[1]);
  const keep = n.attrs.keep_dims;
  if (axes == null || axes.data.length !== 1 || keep == null || !('b' in keep) || !keep.b) return false;
  return axes.data[0] === -1 || axes.data[0] === 3;
}

// ---------------------------------------------------------------------------------------------------
// Spatial convs

export interface SpatialConv {
  input: string;
  k: number;
  /** Input channels per group (1 = depthwise, C = dense). */
  groupWidth: number;
  channels: number;
  /** [k, k, G, C] */
  filter: Float32Array;
  bias: Float32Array;
  precision?: ConstTensor['precision'];
}

/** stride 1, dilation 1, odd k, zero 'same' padding. */
function sameConvAttrs(n: IRNode, k: number): boolean {
  const strides = attrInts(n, 'strides') ?? [1, 1, 1, 1];
  const dil = attrInts(n, 'dilations') ?? [1, 1, 1, 1];
  if (!strides.every((s) => s === 1) || !dil.every((d) => d === 1) || k % 2 === 0) return false;
  const fmt = attrStr(n, 'data_format');
  if (fmt != null && fmt !== 'NHWC') return false;
  const pad = attrStr(n, 'padding');
  if (pad === 'SAME') return true;
  if (pad === 'VALID') return k === 1;
  if (pad === 'EXPLICIT') {
    const p = attrInts(n, 'explicit_paddings') ?? [];
    const h = (k - 1) / 2;
    return p.length === 8 && p[0] === 0 && p[1] === 0 && p[2] === h && p[3] === h && p[4] === h && p[5] === h && p[6] === 0 && p[7] === 0;
  }
  return false;
}

function fusedOps(n: IRNode): string[] {
  const ops = n.attrs.fused_ops;
  return ops != null && 'list' in ops && ops.list.s != null ? ops.list.s : [];
}

function fusedBiasOnly(n: IRNode, allowActivation = false): boolean {
  const ops = fusedOps(n);
  return ops[0] === 'BiasAdd' && (ops.length === 1 || (allowActivation && ops.length === 2 && (ops[1] === 'Relu' || ops[1] === 'Relu6')));
}

/** bias(z) with a per-channel constant: BiasAdd, AddV2 / Add (either order). */
export function matchBias(v: GraphView, m: Match, value: string, c?: number): { input: string; bias: Float32Array } | undefined {
  const n = v.node(value, 'BiasAdd', 'AddV2', 'Add');
  if (n == null) return undefined;
  const parts = splitConst(v, n);
  if (parts == null) return undefined;
  const bias = channelVector(parts[1], c);
  if (bias == null) return undefined;
  m.add(n);
  return { input: parts[0], bias };
}

/** A stride-1 'same' conv of any grouping plus bias, in the forms importers and the builder produce. */
function matchSpatialConvCore(v: GraphView, m: Match, value: string): SpatialConv | undefined {
  const biasPart = matchBias(v, m, value);
  const convValue = biasPart ? biasPart.input : value;
  const n = v.node(convValue, 'DepthwiseConv2dNative', 'FusedDepthwiseConv2dNative', 'Conv2D', '_FusedConv2D', 'Reshape');
  if (n == null) return undefined;
  let input: string;
  let filter: Float32Array;
  let k: number;
  let g: number;
  let c: number;
  let precision: ConstTensor['precision'];
  let bias: Float32Array | undefined = biasPart?.bias;
  if (n.op === 'Reshape') {
    // builder.groupedConv2d: Reshape(Sum(Reshape(Depthwise(x, f[k,k,C,G]), s1), [4]), s2)
    const sum = v.node(n.inputs[0], 'Sum');
    const inner = sum && v.node(sum.inputs[0], 'Reshape');
    const dw = inner && v.node(inner.inputs[0], 'DepthwiseConv2dNative');
    const axes = sum && v.constant(sum.inputs[1]);
    const f = dw && v.constant(dw.inputs[1]);
    if (!sum || !inner || !dw || !f || axes?.data.length !== 1 || axes.data[0] !== 4) return undefined;
    [k, , c, g] = f.shape;
    if (f.shape[0] !== f.shape[1] || !sameConvAttrs(dw, k)) return undefined;
    if (!groupedReshapeDims(v, inner.inputs[1], [c / g, g, g]) || !groupedReshapeDims(v, n.inputs[1], [c])) return undefined;
    // dw channel i*G + m (input i = grp*G + li) -> filter [k, k, li, grp*G + m]
    filter = new Float32Array(k * k * g * c);
    const dwv = f.data as Float32Array;
    for (let s = 0; s < k * k; s++) {
      for (let i = 0; i < c; i++) {
        const grp = Math.floor(i / g);
        const li = i % g;
        for (let mm = 0; mm < g; mm++) filter[(s * g + li) * c + grp * g + mm] = dwv[(s * c + i) * g + mm];
      }
    }
    [sum, inner, dw].forEach((x) => m.add(x));
    addShapeSubgraph(v, m, inner.inputs[1]);
    addShapeSubgraph(v, m, n.inputs[1]);
    input = dw.inputs[0];
    precision = f.precision;
  } else {
    const f = v.constant(n.inputs[1]);
    if (f == null || f.shape.length !== 4 || f.shape[0] !== f.shape[1]) return undefined;
    k = f.shape[0];
    if (!sameConvAttrs(n, k)) return undefined;
    if (n.op === 'DepthwiseConv2dNative' || n.op === 'FusedDepthwiseConv2dNative') {
      if (f.shape[3] !== 1) return undefined;
      g = 1;
      c = f.shape[2];
    } else {
      if (f.shape[2] !== f.shape[3]) return undefined;
      g = c = f.shape[2];
    }
    filter = f.data as Float32Array; // [k,k,C,1] and [k,k,1,C] share the memory order; dense is [k,k,C,C]
    precision = f.precision;
    input = n.inputs[0];
    if (n.op.startsWith('Fused') || n.op.startsWith('_Fused')) {
      if (bias != null || !fusedBiasOnly(n) || n.inputs.length !== 3) return undefined;
      bias = channelVector(v.constant(n.inputs[2]), c);
      if (bias == null) return undefined;
    }
  }
  m.add(n);
  if (bias != null && bias.length !== c) return undefined;
  return { input, k, groupWidth: g, channels: c, filter, bias: bias ?? new Float32Array(c), precision };
}

/** A Reshape target computed as ConcatV2(StridedSlice(Shape(..)), tail) (or a constant) ending in `tail`. */
function groupedReshapeDims(v: GraphView, value: string, tail: number[]): boolean {
  const c = v.constant(value);
  if (c) return tail.every((d, i) => c.data[c.data.length - tail.length + i] === d);
  const concat = v.node(value, 'ConcatV2');
  const t = concat && v.constant(concat.inputs[concat.inputs.length - 2]);
  return t != null && t.data.length === tail.length && tail.every((d, i) => t.data[i] === d);
}

/**
 * An inference BatchNorm left after a conv / linear layer: Mul(y, scale) then Add(shift), both per output
 * channel (what the layout pass makes of ONNX BatchNormalization). Folded into the layer's weights and
 * bias: W' = W * scale, b' = b * scale + shift (float32 rounding, the standard BN fold).
 */
function matchAffine(v: GraphView, m: Match, value: string): { input: string; scale: Float32Array; shift: Float32Array } | undefined {
  const add = v.node(value, 'AddV2', 'Add', 'BiasAdd');
  const aParts = add && splitConst(v, add);
  const shift = aParts && channelVector(aParts[1]);
  const mul = aParts && v.node(aParts[0], 'Mul');
  const mParts = mul && splitConst(v, mul);
  const scale = mParts && channelVector(mParts[1], shift?.length);
  if (!add || !shift || !mul || !mParts || !scale || v.uses(aParts![0]) !== 1) return undefined;
  m.add(add);
  m.add(mul);
  return { input: mParts[0], scale, shift };
}

function foldAffine(weight: Float32Array, bias: Float32Array, scale: Float32Array, shift: Float32Array): [Float32Array, Float32Array] {
  const cout = bias.length;
  const w = Float32Array.from(weight, (x, i) => x * scale[i % cout]); // output channel is the last axis
  return [w, Float32Array.from(bias, (b, o) => b * scale[o] + shift[o])];
}

/**
 * Matches `core` at `value`, absorbing a per-channel affine that follows it (an unfolded BatchNorm) into its
 * weights and bias when the channel counts agree; otherwise matches `core` alone.
 */
function withFoldedAffine<T extends { bias: Float32Array }>(v: GraphView, m: Match, value: string,
  core: (m: Match, value: string) => T | undefined, weightOf: (t: T) => Float32Array,
  rebuild: (t: T, weight: Float32Array, bias: Float32Array) => T): T | undefined {
  const sub = new Match();
  const aff = matchAffine(v, sub, value);
  const inner = aff && core(sub, aff.input);
  if (aff && inner && aff.scale.length === inner.bias.length) {
    sub.nodes.forEach((n) => m.add(n));
    const [weight, bias] = foldAffine(weightOf(inner), inner.bias, aff.scale, aff.shift);
    return rebuild(inner, weight, bias);
  }
  return core(m, value);
}

/** A stride-1 'same' conv of any grouping plus bias (and an optional folded BatchNorm). */
export function matchSpatialConv(v: GraphView, m: Match, value: string): SpatialConv | undefined {
  return withFoldedAffine(v, m, value, (mm, x) => matchSpatialConvCore(v, mm, x), (c) => c.filter,
    (c, filter, bias) => ({ ...c, filter, bias }));
}

/**
 * y = x W + b over the channel axis (and an optional folded BatchNorm). With `fusedActivation`, matches
 * only tfjs-converter's `_FusedConv2D` / `_FusedMatMul` with fused_ops [BiasAdd, Relu | Relu6] (whose
 * activation matchActivation reported).
 */
export function matchLinear(v: GraphView, m: Match, value: string, fusedActivation = false): Linear | undefined {
  if (fusedActivation) return matchLinearCore(v, m, value, true);
  return withFoldedAffine(v, m, value, (mm, x) => matchLinearCore(v, mm, x), (l) => l.weight,
    (l, weight, bias) => ({ ...l, weight, bias }));
}

// ---------------------------------------------------------------------------------------------------
// Pointwise linear layers

export interface Linear {
  input: string;
  /** [Cin, Cout] */
  weight: Float32Array;
  cin: number;
  cout: number;
  bias: Float32Array;
  precision?: ConstTensor['precision'];
}

/** y = x W + b over the channel axis: MatMul / BatchMatMulV2 / Keras tensordot / 1x1 Conv2D (+ bias). */
function matchLinearCore(v: GraphView, m: Match, value: string, fusedActivation = false): Linear | undefined {
  const biasPart = matchBias(v, m, value);
  const coreValue = biasPart ? biasPart.input : value;
  let n = v.node(coreValue, 'MatMul', 'BatchMatMulV2', 'Conv2D', '_FusedConv2D', '_FusedMatMul', 'Reshape');
  if (n == null) return undefined;
  let outerReshape: IRNode | undefined;
  if (n.op === 'Reshape') {
    // Keras Dense on 4-D input: Reshape(MatMul(Reshape(x, [-1, C]), W), [N, H, W, D])
    outerReshape = n;
    n = v.node(n.inputs[0], 'MatMul');
    if (n == null) return undefined;
  }
  const w = v.constant(n.inputs[1]);
  if (w == null || w.dtype !== 'float32') return undefined;
  let weight: Float32Array;
  let input = n.inputs[0];
  let cin: number;
  let cout: number;
  if (n.op === 'Conv2D' || n.op === '_FusedConv2D') {
    if (w.shape.length !== 4 || w.shape[0] !== 1 || w.shape[1] !== 1 || !sameConvAttrs(n, 1)) return undefined;
    weight = w.data as Float32Array;
    [cin, cout] = [w.shape[2], w.shape[3]];
  } else {
    if (w.shape.length !== 2) return undefined;
    const flag = (a: IRNode['attrs'][string] | undefined): boolean => a != null && 'b' in a && a.b;
    if (flag(n.attrs.transpose_a ?? n.attrs.adj_x)) return undefined;
    const tb = flag(n.attrs.transpose_b ?? n.attrs.adj_y);
    weight = tb ? transposeConst(w, [1, 0]).data as Float32Array : w.data as Float32Array;
    [cin, cout] = tb ? [w.shape[1], w.shape[0]] : [w.shape[0], w.shape[1]];
  }
  let bias = biasPart?.bias;
  if (n.op === '_FusedConv2D' || n.op === '_FusedMatMul') {
    if (bias != null || !fusedBiasOnly(n, fusedActivation) || n.inputs.length !== 3) return undefined;
    if (fusedActivation !== (fusedOps(n).length === 2)) return undefined;
    bias = channelVector(v.constant(n.inputs[2]), cout);
    if (bias == null) return undefined;
  }
  if (outerReshape) {
    const inner = v.node(input, 'Reshape');
    if (inner == null) return undefined;
    const target = v.constant(inner.inputs[1]);
    if (target && target.data[target.data.length - 1] !== cin) return undefined;
    const outTarget = v.constant(outerReshape.inputs[1]);
    if (outTarget && outTarget.data[outTarget.data.length - 1] !== cout) return undefined;
    m.add(inner);
    m.add(outerReshape);
    addShapeSubgraph(v, m, inner.inputs[1]);
    addShapeSubgraph(v, m, outerReshape.inputs[1]);
    input = inner.inputs[0];
  }
  if (bias != null && bias.length !== cout) return undefined;
  m.add(n);
  return { input, weight, cin, cout, bias: bias ?? new Float32Array(cout), precision: w.precision };
}

// ---------------------------------------------------------------------------------------------------
// Activations

/** Factors of a product tree of Mul nodes (expanding only nodes read once). */
function productFactors(v: GraphView, m: Match, value: string, out: string[], nodes: IRNode[]): void {
  const n = v.node(value, 'Mul');
  if (n != null && (nodes.length === 0 || v.uses(value) === 1)) {
    nodes.push(n);
    productFactors(v, m, n.inputs[0], out, nodes);
    productFactors(v, m, n.inputs[1], out, nodes);
  } else {
    out.push(value);
  }
}

/** erf(z / sqrt 2) + 1, returning z. */
function matchErfPlusOne(v: GraphView, m: Match, value: string): string | undefined {
  const add = v.node(value, 'AddV2', 'Add');
  const parts = add && splitConst(v, add);
  if (!add || !parts || !near(approxScalar(parts[1]), 1)) return undefined;
  const erf = v.node(parts[0], 'Erf');
  if (!erf) return undefined;
  const scaled = v.node(erf.inputs[0], 'RealDiv', 'Div', 'Mul');
  if (!scaled) return undefined;
  const c = v.constant(scaled.inputs[1]) ?? (scaled.op === 'Mul' ? v.constant(scaled.inputs[0]) : undefined);
  const z = v.constant(scaled.inputs[1]) ? scaled.inputs[0] : scaled.inputs[1];
  const s = approxScalar(c);
  if (s == null) return undefined;
  if (scaled.op === 'Mul' ? !near(s, Math.SQRT1_2) : !near(s, Math.SQRT2)) return undefined;
  [add, erf, scaled].forEach((x) => m.add(x));
  return z;
}

/** Splits a product tree into its constant factor (product) and the other factors. */
function splitProduct(v: GraphView, m: Match, value: string): { scale: Approx; rest: string[]; nodes: IRNode[] } {
  const factors: string[] = [];
  const nodes: IRNode[] = [];
  productFactors(v, m, value, factors, nodes);
  const scale: Approx = { value: 1, tol: 0 };
  const rest: string[] = [];
  for (const f of factors) {
    const c = approxScalar(v.constant(f));
    if (c == null) {
      rest.push(f);
      continue;
    }
    // relative errors of factors add up
    scale.value *= c.value;
    scale.tol += c.tol;
  }
  return { scale, rest, nodes };
}

/**
 * `value` = 0.044715 z^power as a product (z repeated or Pow(z, power), any Mul ordering): the nodes it spans, or
 * undefined.
 */
function cubicCoefficientTerm(v: GraphView, m: Match, value: string, z: string, power: number): IRNode[] | undefined {
  const term = splitProduct(v, m, value);
  const pows: IRNode[] = [];
  const factors = term.rest.flatMap((f) => {
    const pow = v.node(f, 'Pow');
    if (pow && pow.inputs[0] === z && scalarValue(v.constant(pow.inputs[1])) === power) {
      pows.push(pow);
      return Array<string>(power).fill(z);
    }
    return [f];
  });
  if (!near(term.scale, 0.044715) || factors.length !== power || !factors.every((f) => f === z)) return undefined;
  return [...term.nodes, ...pows];
}

/**
 * tanh(sqrt(2/pi) (z + 0.044715 z^3)) + 1, returning z; also FastGELU's algebraic form
 * tanh(z sqrt(2/pi) (1 + 0.044715 z^2)) + 1 (Hugging Face's FastGELUActivation), the same function.
 */
function matchTanhPlusOne(v: GraphView, m: Match, value: string): string | undefined {
  const add = v.node(value, 'AddV2', 'Add');
  const parts = add && splitConst(v, add);
  if (!add || !parts || !near(approxScalar(parts[1]), 1)) return undefined;
  const tanh = v.node(parts[0], 'Tanh');
  if (!tanh) return undefined;
  const outer = splitProduct(v, m, tanh.inputs[0]);
  if (!near(outer.scale, Math.sqrt(2 / Math.PI))) return undefined;
  const matched = (z: string, nodes: IRNode[]): string => {
    [add, tanh, ...outer.nodes, ...nodes].forEach((n) => m.add(n));
    return z;
  };
  if (outer.rest.length === 1) {
    // z + 0.044715 z^3
    const inner = v.node(outer.rest[0], 'AddV2', 'Add');
    if (!inner) return undefined;
    for (const [z, cubeTerm] of [[inner.inputs[0], inner.inputs[1]], [inner.inputs[1], inner.inputs[0]]]) {
      const cube = cubicCoefficientTerm(v, m, cubeTerm, z, 3);
      if (cube) return matched(z, [inner, ...cube]);
    }
  } else if (outer.rest.length === 2) {
    // z (1 + 0.044715 z^2)
    for (const [z, poly] of [[outer.rest[0], outer.rest[1]], [outer.rest[1], outer.rest[0]]]) {
      const inner = v.node(poly, 'AddV2', 'Add');
      const terms = inner && splitConst(v, inner);
      if (!inner || !terms || !near(approxScalar(terms[1]), 1)) continue;
      const square = cubicCoefficientTerm(v, m, terms[0], z, 2);
      if (square) return matched(z, [inner, ...square]);
    }
  }
  return undefined;
}

/** An activation applied to z: exact or tanh GELU (any Mul ordering), SiLU, ReLU, ReLU6. */
export function matchActivation(v: GraphView, m: Match, value: string):
  { input: string; activation: Activation; fusedIntoLinear?: boolean } | undefined {
  const fusedLinear = v.node(value, '_FusedConv2D', '_FusedMatMul');
  if (fusedLinear && fusedBiasOnly(fusedLinear, true) && fusedOps(fusedLinear).length === 2) {
    // tfjs-converter folded the activation into the linear layer: the same node is both.
    return { input: value, activation: fusedOps(fusedLinear)[1] === 'Relu' ? 'relu' : 'relu6', fusedIntoLinear: true };
  }
  const relu = v.node(value, 'Relu', 'Relu6', 'ClipByValue');
  if (relu) {
    if (relu.op === 'ClipByValue') {
      if (scalarValue(v.constant(relu.inputs[1])) !== 0 || scalarValue(v.constant(relu.inputs[2])) !== 6) return undefined;
    }
    m.add(relu);
    return { input: relu.inputs[0], activation: relu.op === 'Relu' ? 'relu' : 'relu6' };
  }
  const mul = v.node(value, 'Mul');
  if (mul == null) return undefined;
  for (const [a, b] of [[mul.inputs[0], mul.inputs[1]], [mul.inputs[1], mul.inputs[0]]]) {
    const sig = v.node(b, 'Sigmoid');
    if (sig && sig.inputs[0] === a) {
      m.add(mul);
      m.add(sig);
      return { input: a, activation: 'silu' };
    }
  }
  const { scale, rest, nodes } = splitProduct(v, m, value);
  if (rest.length !== 2 || !near(scale, 0.5)) return undefined;
  for (const [z, other] of [[rest[0], rest[1]], [rest[1], rest[0]]]) {
    for (const [match, activation] of [[matchErfPlusOne, 'gelu'], [matchTanhPlusOne, 'gelu_tanh']] as const) {
      const sub = new Match();
      if (match(v, sub, other) === z) {
        nodes.forEach((n) => m.add(n));
        sub.nodes.forEach((n) => m.add(n));
        return { input: z, activation };
      }
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// LayerNorm over the channel (last) axis

export interface LayerNormMatch { input: string; gamma: Float32Array; beta: Float32Array; epsilon: number; precision?: ConstTensor['precision'] }

/** Mean(x, last axis, keep) -> x */
function meanOf(v: GraphView, m: Match, value: string): string | undefined {
  const n = v.node(value, 'Mean');
  if (!n || !meanIsLastAxis(v, n)) return undefined;
  m.add(n);
  return n.inputs[0];
}

/** var + eps -> [var value, eps] */
function plusEps(v: GraphView, m: Match, value: string): [string, number] | undefined {
  const n = v.node(value, 'AddV2', 'Add');
  const parts = n && splitConst(v, n);
  const eps = parts && scalarValue(parts[1]);
  if (!n || !parts || eps == null) return undefined;
  m.add(n);
  return [parts[0], eps];
}

/** Mean((x - mean)^2) in its forms: Square / Pow 2 / Mul(d, d) of the centered value, or SquaredDifference. */
function varianceOf(v: GraphView, m: Match, value: string, x: string, centered?: string): boolean {
  const inner = v.node(value, 'Mean');
  if (!inner || !meanIsLastAxis(v, inner)) return false;
  const sq = v.node(inner.inputs[0], 'Square', 'Pow', 'Mul', 'SquaredDifference');
  if (!sq) return false;
  let ok = false;
  if (sq.op === 'SquaredDifference') ok = sq.inputs[0] === x && meanOf(v, new Match(), sq.inputs[1]) === x;
  else if (sq.op === 'Square') ok = centered != null && sq.inputs[0] === centered;
  else if (sq.op === 'Pow') ok = centered != null && sq.inputs[0] === centered && scalarValue(v.constant(sq.inputs[1])) === 2;
  else ok = centered != null && sq.inputs[0] === centered && sq.inputs[1] === centered;
  if (ok) { m.add(inner); m.add(sq); }
  return ok;
}

/**
 * LayerNorm forms: (x - mean) * rsqrt(var + eps) * gamma + beta (builder / ONNX LayerNormalization),
 * (x - mean) / sqrt(var + eps) * gamma + beta (split ReduceMean/Sub/Pow/Sqrt/Div exports), and Keras'
 * x * m + (beta - mean * m) with m = rsqrt(var + eps) * gamma (grappler's AddN / Neg rewrite).
 */
export function matchLayerNorm(v: GraphView, m: Match, value: string): LayerNormMatch | undefined {
  return matchCenteredLayerNorm(v, m, value) ?? matchKerasLayerNorm(v, m, value);
}

function matchCenteredLayerNorm(v: GraphView, m: Match, value: string): LayerNormMatch | undefined {
  const addBeta = v.node(value, 'AddV2', 'Add', 'BiasAdd');
  const bParts = addBeta && splitConst(v, addBeta);
  const beta = bParts && channelVector(bParts[1]);
  if (!addBeta || !bParts || !beta) return undefined;
  const mulGamma = v.node(bParts[0], 'Mul');
  const gParts = mulGamma && splitConst(v, mulGamma);
  const gamma = gParts && channelVector(gParts[1], beta.length);
  if (!mulGamma || !gParts || !gamma) return undefined;
  const norm = v.node(gParts[0], 'Mul', 'RealDiv', 'Div');
  if (!norm) return undefined;
  const local = new Match();
  const orders = norm.op === 'Mul' ? [[0, 1], [1, 0]] : [[0, 1]];
  for (const [ci, ii] of orders) {
    const centeredV = norm.inputs[ci];
    const centered = v.node(centeredV, 'Sub');
    if (!centered) continue;
    const x = centered.inputs[0];
    if (meanOf(v, local, centered.inputs[1]) !== x) continue;
    const root = v.node(norm.inputs[ii], norm.op === 'Mul' ? 'Rsqrt' : 'Sqrt');
    if (!root) continue;
    const pe = plusEps(v, local, root.inputs[0]);
    if (!pe || !varianceOf(v, local, pe[0], x, centeredV)) continue;
    [addBeta, mulGamma, norm, centered, root].forEach((n) => m.add(n));
    local.nodes.forEach((n) => m.add(n));
    return { input: x, gamma, beta, epsilon: pe[1], precision: gParts[1].precision };
  }
  return undefined;
}

/** Keras' sum of the two normalized terms and beta: AddV2(beta, AddN | AddV2(a, b)) or one AddN(a, b, beta). */
function kerasTerms(v: GraphView, value: string): { nodes: IRNode[]; terms: string[]; beta: Float32Array } | undefined {
  const addN = v.node(value, 'AddN');
  if (addN && addN.inputs.length === 3) {
    // grappler merges the beta add into the AddN when the LayerNorm input is 2-D (the head).
    const bi = addN.inputs.findIndex((i) => channelVector(v.constant(i)) != null);
    const beta = bi >= 0 ? channelVector(v.constant(addN.inputs[bi])) : undefined;
    const terms = addN.inputs.filter((_, i) => i !== bi);
    return beta && terms.every((t) => !v.constant(t)) ? { nodes: [addN], terms, beta } : undefined;
  }
  const top = v.node(value, 'AddV2', 'Add');
  const tParts = top && splitConst(v, top);
  const beta = tParts && channelVector(tParts[1]);
  if (!top || !tParts || !beta) return undefined;
  const sum = v.node(tParts[0], 'AddN', 'AddV2', 'Add');
  if (!sum || sum.inputs.length !== 2) return undefined;
  return { nodes: [top, sum], terms: sum.inputs, beta };
}

function matchKerasLayerNorm(v: GraphView, m: Match, value: string): LayerNormMatch | undefined {
  // AddV2(beta, AddN(Mul(x, s), Mul(Neg(mean), s))),  s = Mul(Rsqrt(var + eps), gamma)
  const sumOf = kerasTerms(v, value);
  if (!sumOf) return undefined;
  const { beta } = sumOf;
  const local = new Match();
  for (const [xi, mi] of [[0, 1], [1, 0]]) {
    const mx = v.node(sumOf.terms[xi], 'Mul');
    const mm = v.node(sumOf.terms[mi], 'Mul');
    if (!mx || !mm) continue;
    for (const [a, s] of [[mx.inputs[0], mx.inputs[1]], [mx.inputs[1], mx.inputs[0]]]) {
      const negSide = mm.inputs[0] === s ? mm.inputs[1] : mm.inputs[1] === s ? mm.inputs[0] : undefined;
      if (!negSide) continue;
      const neg = v.node(negSide, 'Neg');
      if (!neg || meanOf(v, local, neg.inputs[0]) !== a) continue;
      const sNode = v.node(s, 'Mul');
      const sParts = sNode && splitConst(v, sNode);
      const gamma = sParts && channelVector(sParts[1], beta.length);
      const root = sParts && v.node(sParts[0], 'Rsqrt');
      if (!sNode || !sParts || !gamma || !root) continue;
      const pe = plusEps(v, local, root.inputs[0]);
      if (!pe || !varianceOf(v, local, pe[0], a)) continue;
      [...sumOf.nodes, mx, mm, neg, sNode, root].forEach((n) => m.add(n));
      local.nodes.forEach((n) => m.add(n));
      return { input: a, gamma, beta, epsilon: pe[1], precision: sParts[1].precision };
    }
  }
  return undefined;
}
