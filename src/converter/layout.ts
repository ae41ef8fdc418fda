/**
 * The layout pass: lowers a decoded ONNX graph (NCHW) to IR with TF.js ops in NHWC.
 *
 * Every value carries a layout tag: 'logical' (stored as ONNX sees it) or 'nhwc' (a rank-4 NCHW value
 * stored transposed by [0, 2, 3, 1]). Spatial ops (Conv, pools, BatchNorm) want 'nhwc'; elementwise ops
 * and reductions work in whatever layout their input has (constants are permuted to match); Transpose
 * nodes only change the tag when they convert between the two, so the Transpose pairs PyTorch exports
 * around LayerNorm cancel. A real Transpose is emitted only where a logical-layout op (MatMul, Reshape,
 * Flatten...) reads an 'nhwc' value whose spatial size is not 1. Constant subgraphs (shape arithmetic
 * for dynamic batch: Shape/Gather/Unsqueeze/Concat) are folded when their inputs are known.
 */
import {
  binaryConst, broadcastShapes, concatConst, floatConst, gatherConst, intConst, mapConst, squeezeLeading,
  transposeConst, uniformValue,
} from './const_eval.js';
import { ConversionError, type UnsupportedNode, unsupportedOpsError } from './errors.js';
import { attr, type ConstTensor, type DType, Graph, tensorSize } from './ir.js';
import { GraphBuilder } from './ir_builder.js';
import type { OnnxModel, OnnxNode } from './onnx_import.js';

export type InputLayout = 'nchw' | 'nhwc';

export interface OnnxLowerOptions {
  /** Layout the converted model takes its (rank-4) inputs in; 'nchw' keeps the ONNX model's. */
  inputLayout?: InputLayout;
}

type Layout = 'logical' | 'nhwc';

interface Val {
  /** Graph value name holding the data in `layout`; absent for constants until first used. */
  ref?: string;
  layout: Layout;
  /** Logical (ONNX) shape, -1 for unknown dims; null when even the rank is unknown. */
  shape: number[] | null;
  dtype: DType;
  /** Known value (logical layout). */
  value?: ConstTensor;
  /** For int vectors computed from dynamic shapes: the entries known at conversion time (-1 unknown). */
  partial?: number[];
  /** Cached conversions of this value to the other layout. */
  other?: string;
  /** For constants: refs by layout. */
  constRefs?: Partial<Record<Layout, string>>;
}

const TO_NHWC = [0, 2, 3, 1];
const TO_NCHW = [0, 3, 1, 2];

/** The ONNX ops this pass lowers (default domain). */
export const SUPPORTED_ONNX_OPS = new Set([
  'Conv', 'LayerNormalization', 'BatchNormalization', 'MatMul', 'Gemm', 'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Sqrt',
  'Erf', 'Gelu', 'Sigmoid', 'Relu', 'Clip', 'Transpose', 'Reshape', 'Flatten', 'GlobalAveragePool', 'ReduceMean',
  'Identity', 'Constant', 'Shape', 'Gather', 'Unsqueeze', 'Squeeze', 'Concat', 'Cast', 'Tanh', 'Neg', 'Exp',
  'Reciprocal', 'Softmax', 'MaxPool', 'AveragePool', 'Dropout', 'HardSigmoid', 'HardSwish',
]);

const ONNX_DTYPE: Record<number, DType> = { 1: 'float32', 10: 'float32', 11: 'float32', 6: 'int32', 7: 'int32', 9: 'bool' };

function composePerm(a: readonly number[], b: readonly number[]): number[] {
  // transpose(transpose(T, a), b) == transpose(T, c) with c[j] = a[b[j]]
  return b.map((j) => a[j]);
}
const isIdentity = (p: readonly number[]): boolean => p.every((v, i) => v === i);
const samePerm = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

function knownSize(shape: number[] | null): number | undefined {
  return shape != null && shape.every((d) => d >= 0) ? tensorSize(shape) : undefined;
}

class OnnxLowering {
  readonly b = new GraphBuilder();
  readonly vals = new Map<string, Val>();
  constructor(readonly model: OnnxModel, readonly options: OnnxLowerOptions) {}

  fail(node: OnnxNode, message: string): never {
    throw new ConversionError(`node #${node.index} '${node.name}' (${node.opType}): ${message}`);
  }

  /**
   * Fails when two dimensions that must be equal are both known and differ: a corrupt or hand-edited file would
   * otherwise convert and fail only when run (or, for a conv, read the wrong channels).
   */
  sameDim(node: OnnxNode, what: string, a: number | undefined, b: number | undefined): void {
    if (a != null && b != null && a >= 0 && b >= 0 && a !== b) this.fail(node, `${what} differ (${a} vs ${b})`);
  }

  val(name: string, node: OnnxNode): Val {
    const v = this.vals.get(name);
    if (v == null) this.fail(node, `input '${name}' is not available`);
    return v;
  }

  constVal(t: ConstTensor): Val {
    return { layout: 'logical', shape: [...t.shape], dtype: t.dtype, value: t };
  }

  /** The value's graph ref in the requested layout, inserting a conversion when needed. */
  ref(v: Val, layout: Layout = 'logical', hint = 'const'): string {
    if (v.value != null) {
      v.constRefs ??= {};
      const cached = v.constRefs[layout];
      if (cached) return cached;
      const t = layout === 'nhwc' && v.value.shape.length === 4 ? transposeConst(v.value, TO_NHWC) : v.value;
      const name = this.b.graph.addConst(hint, t);
      v.constRefs[layout] = name;
      return name;
    }
    if (v.ref == null) throw new Error('value has no ref');
    if (v.layout === layout) return v.ref;
    if (v.other) return v.other;
    if (v.shape == null || v.shape.length !== 4) {
      throw new ConversionError(`a rank-4 layout conversion was asked of a value of rank ${v.shape?.length ?? 'unknown'}`);
    }
    const [n, c, h, w] = v.shape;
    // With H = W = 1 (or C = 1) both layouts hold the same bytes: a Reshape, not a Transpose.
    const target = layout === 'logical' ? v.shape : [n, h, w, c];
    const unknown = target.filter((d) => d < 0).length;
    if ((h * w === 1 || c === 1) && h >= 0 && w >= 0 && c >= 0 && unknown <= 1) {
      v.other = this.b.reshape(v.ref, target);
    } else {
      v.other = this.b.transpose(v.ref, layout === 'logical' ? TO_NCHW : TO_NHWC);
    }
    return v.other;
  }

  set(name: string, v: Val): void {
    this.vals.set(name, v);
  }

  lower(): Graph {
    const bad: UnsupportedNode[] = [];
    for (const n of this.model.nodes) {
      if ((n.domain !== '' && n.domain !== 'ai.onnx') || !SUPPORTED_ONNX_OPS.has(n.opType)) {
        bad.push({ index: n.index, name: n.name, op: n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType });
      }
    }
    if (bad.length > 0) throw unsupportedOpsError('ONNX', bad);
    if (this.model.opset < 13 || this.model.opset > 20) {
      // Older / newer opsets mostly work, but only 13-20 are tested: say so instead of failing.
      console.warn(`warning: ONNX opset ${this.model.opset} is outside the tested range 13-20`);
    }
    for (const [name, t] of this.model.initializers) this.set(name, this.constVal(t));
    for (const inp of this.model.inputs) {
      const dtype = ONNX_DTYPE[inp.elemType] ?? 'float32';
      const shape = inp.shape ?? [];
      const nhwc = this.options.inputLayout === 'nhwc' && shape.length === 4;
      const ref = this.b.input(inp.name, nhwc ? TO_NHWC.map((i) => shape[i]) : shape, dtype, nhwc ? 'NHWC' : (shape.length === 4 ? 'NCHW' : undefined));
      this.set(inp.name, { ref, layout: nhwc ? 'nhwc' : 'logical', shape: inp.shape, dtype });
    }
    for (const node of this.model.nodes) {
      try {
        this.lowerNode(node);
      } catch (e) {
        // Shapes that disagree (a corrupt or hand-edited file) surface as plain Errors deep in shape evaluation.
        if (e instanceof ConversionError) throw e;
        this.fail(node, (e as Error).message);
      }
    }
    for (const out of this.model.outputs) {
      const v = this.val(out.name, { index: -1, name: out.name, opType: 'output', domain: '', inputs: [], outputs: [], attrs: {} });
      const id = this.b.op('Identity', [this.ref(v, 'logical', out.name)], {}, out.name);
      this.b.output(id);
    }
    const g = this.b.graph;
    g.removeDead();
    return g;
  }

  lowerNode(node: OnnxNode): void {
    const ins = node.inputs.map((n) => (n === '' ? undefined : this.val(n, node)));
    const a = node.attrs;
    const out = (v: Val): void => this.set(node.outputs[0], v);
    const x = ins[0] as Val;
    switch (node.opType) {
      case 'Identity': case 'Dropout': return out(x);
      case 'Constant': return out(this.constVal(this.constantAttr(node)));
      case 'Conv': return out(this.conv(node, ins));
      case 'BatchNormalization': return out(this.batchNorm(node, ins));
      case 'LayerNormalization': return out(this.layerNorm(node, ins));
      case 'GlobalAveragePool': {
        const r = this.b.mean(this.ref(x, 'nhwc'), [1, 2], true);
        return out({ ref: r, layout: 'nhwc', shape: x.shape ? [x.shape[0], x.shape[1], 1, 1] : null, dtype: 'float32' });
      }
      case 'MaxPool': case 'AveragePool': return out(this.pool(node, x));
      case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Pow':
        return out(this.binary(node, x, ins[1] as Val));
      case 'Sqrt': case 'Erf': case 'Sigmoid': case 'Relu': case 'Tanh': case 'Neg': case 'Exp': case 'Reciprocal':
        return out(this.unary(node, x));
      case 'HardSigmoid': case 'HardSwish': return out(this.hard(node, x));
      case 'Gelu': {
        const approx = (a.approximate as string | undefined) ?? 'none';
        const r = approx === 'tanh' ? this.b.geluTanh(this.ref(x, x.layout)) : this.b.gelu(this.ref(x, x.layout));
        return out({ ...x, ref: r, value: undefined, other: undefined, constRefs: undefined });
      }
      case 'Clip': return out(this.clip(node, ins));
      case 'MatMul': return out(this.matMul(node, x, ins[1] as Val));
      case 'Gemm': return out(this.gemm(node, ins));
      case 'Transpose': return out(this.transpose(node, x));
      case 'Reshape': {
        const target = ins[1] as Val;
        if (target.value == null && target.partial != null) return out(this.dynamicReshape(node, x, target));
        return out(this.reshape(node, x, this.intsOf(node, target, 'shape'), (a.allowzero as number) === 1));
      }
      case 'Flatten': {
        const axisRaw = (a.axis as number | undefined) ?? 1;
        const s = x.shape;
        if (s == null) this.fail(node, 'input rank unknown');
        const axis = axisRaw < 0 ? axisRaw + s.length : axisRaw;
        const lead = s.slice(0, axis);
        const tail = s.slice(axis);
        const p = (d: number[]): number => (d.some((v) => v < 0) ? -1 : tensorSize(d));
        return out(this.reshape(node, x, [p(lead), p(tail)], false));
      }
      case 'ReduceMean': return out(this.reduceMean(node, ins));
      case 'Shape': return out(this.shapeOf(node, x));
      case 'Gather': return out(this.gather(node, x, ins[1] as Val));
      case 'Unsqueeze': case 'Squeeze': return out(this.squeezeOrUnsqueeze(node, ins));
      case 'Concat': return out(this.concat(node, ins as Val[]));
      case 'Cast': return out(this.cast(node, x));
      case 'Softmax': {
        const r = x.shape?.length ?? 0;
        // Before opset 13 the default axis is 1 (softmax over all of axes 1.. flattened), the last axis only at rank 2.
        const axis = (a.axis as number | undefined) ?? (this.model.opset < 13 ? 1 : -1);
        if (axis !== -1 && axis !== r - 1) this.fail(node, `Softmax over axis ${axis} (only the last axis is supported)`);
        const y = this.b.op('Softmax', [this.ref(x, 'logical')]);
        return out({ ref: y, layout: 'logical', shape: x.shape, dtype: 'float32' });
      }
      default:
        this.fail(node, 'unsupported op');
    }
  }

  constantAttr(node: OnnxNode): ConstTensor {
    const a = node.attrs;
    if (a.value != null && typeof a.value === 'object' && !Array.isArray(a.value)) return a.value as ConstTensor;
    if (typeof a.value_float === 'number') return floatConst([a.value_float], []);
    if (Array.isArray(a.value_floats)) return floatConst(a.value_floats as number[], [(a.value_floats as number[]).length]);
    if (typeof a.value_int === 'number') return intConst([a.value_int], []);
    if (Array.isArray(a.value_ints)) return intConst(a.value_ints as number[]);
    return this.fail(node, 'Constant without a supported value attribute');
  }

  /** An int list from a constant input (or folded subgraph). */
  intsOf(node: OnnxNode, v: Val | undefined, what: string): number[] {
    if (v?.value == null) this.fail(node, `${what} must be a constant (or computable from constants and static shapes)`);
    return Array.from(v.value.data);
  }

  floatScalar(node: OnnxNode, v: Val | undefined, what: string): number | undefined {
    if (v == null) return undefined;
    if (v.value == null) this.fail(node, `${what} must be a constant`);
    const u = uniformValue(v.value);
    if (u == null) this.fail(node, `${what} must be a scalar`);
    return u;
  }

  // ---- spatial ops (NHWC) ----

  convPadding(node: OnnxNode, k: [number, number], strides: [number, number], dil: [number, number],
    inHW: [number, number] | null): { padding: 'SAME' | 'VALID' | [number, number, number, number]; outHW: [number, number] | null } {
    const a = node.attrs;
    const auto = (a.auto_pad as string | undefined) ?? 'NOTSET';
    const eff = [dil[0] * (k[0] - 1) + 1, dil[1] * (k[1] - 1) + 1];
    if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
      if (auto === 'SAME_LOWER' && (eff[0] - 1) % 2 === 1) this.fail(node, 'auto_pad SAME_LOWER with even kernels is not supported');
      return { padding: 'SAME', outHW: inHW ? [Math.ceil(inHW[0] / strides[0]), Math.ceil(inHW[1] / strides[1])] : null };
    }
    const pads = (a.pads as number[] | undefined) ?? [0, 0, 0, 0];
    const [t, l, bt, r] = pads;
    const outHW: [number, number] | null = inHW && inHW[0] >= 0 && inHW[1] >= 0
      ? [Math.floor((inHW[0] + t + bt - eff[0]) / strides[0]) + 1, Math.floor((inHW[1] + l + r - eff[1]) / strides[1]) + 1]
      : null;
    if (auto === 'VALID' || pads.every((p) => p === 0)) return { padding: 'VALID', outHW };
    const sameLike = strides[0] === 1 && strides[1] === 1 && t === bt && l === r && 2 * t === eff[0] - 1 && 2 * l === eff[1] - 1;
    return { padding: sameLike ? 'SAME' : [t, bt, l, r], outHW };
  }

  conv(node: OnnxNode, ins: (Val | undefined)[]): Val {
    const [x, w, bias] = ins as [Val, Val, Val | undefined];
    if (w.value == null) this.fail(node, 'the weight must be a constant');
    const [cout, cinPerGroup, kh, kw] = w.value.shape;
    if (w.value.shape.length !== 4) this.fail(node, `only 2-D convolutions are supported (weight rank ${w.value.shape.length})`);
    const group = (node.attrs.group as number | undefined) ?? 1;
    const cin = cinPerGroup * group;
    if (cout % group !== 0) this.fail(node, `${cout} output channels do not split into ${group} groups`);
    if (x.shape != null && x.shape.length !== 4) this.fail(node, `input rank ${x.shape.length} (a 2-D convolution takes rank 4)`);
    this.sameDim(node, "the input's channels and the weight's (in channels per group x group)", x.shape?.[1], cin);
    const strides = ((node.attrs.strides as number[] | undefined) ?? [1, 1]) as [number, number];
    const dil = ((node.attrs.dilations as number[] | undefined) ?? [1, 1]) as [number, number];
    const inHW: [number, number] | null = x.shape ? [x.shape[2], x.shape[3]] : null;
    const { padding, outHW } = this.convPadding(node, [kh, kw], strides, dil, inHW);
    const xin = this.ref(x, 'nhwc');
    const base = node.name;
    let biasRef: string | undefined;
    if (bias) {
      if (bias.value == null) this.fail(node, 'the bias must be a constant');
      biasRef = this.b.weight(`${base}/bias`, [cout], bias.value.data);
    }
    const opts = { strides, dilations: dil, padding, bias: biasRef };
    let y: string;
    if (group === 1) {
      // [Cout, Cin, kh, kw] -> [kh, kw, Cin, Cout]
      const f = transposeConst(w.value, [2, 3, 1, 0]);
      y = this.b.conv2d(xin, this.b.graph.addConst(`${base}/filter`, { ...f, precision: w.value.precision }), opts);
    } else if (cinPerGroup === 1) {
      // depthwise (channel multiplier cout / cin): output c*M + m reads input c; same order as TF.
      const m = cout / cin;
      const f = transposeConst({ ...w.value, shape: [cin, m, kh, kw] }, [2, 3, 0, 1]);
      y = this.b.depthwiseConv2d(xin, this.b.graph.addConst(`${base}/filter`, { ...f, precision: w.value.precision }), opts);
    } else {
      if (strides[0] !== 1 || strides[1] !== 1 || dil[0] !== 1 || dil[1] !== 1) {
        this.fail(node, 'grouped convolutions (not depthwise) are supported with stride 1 and dilation 1 only');
      }
      // [Cout, G, kh, kw] -> [kh, kw, G, Cout]
      const f = transposeConst(w.value, [2, 3, 1, 0]);
      y = this.b.groupedConv2d(xin, f.data as Float32Array, [kh, kw, cinPerGroup, cout],
        { ...opts, inChannels: cin, weightName: `${base}/filter` });
    }
    const n = x.shape ? x.shape[0] : -1;
    return { ref: y, layout: 'nhwc', shape: [n, cout, outHW?.[0] ?? -1, outHW?.[1] ?? -1], dtype: 'float32' };
  }

  pool(node: OnnxNode, x: Val): Val {
    const k = (node.attrs.kernel_shape as number[]) ?? [1, 1];
    const strides = ((node.attrs.strides as number[] | undefined) ?? [1, 1]) as [number, number];
    if ((node.attrs.ceil_mode as number | undefined) === 1) this.fail(node, 'ceil_mode=1 is not supported');
    // TF.js pools have no dilation: lowering a dilated pool without it would compute another function.
    const dilations = node.attrs.dilations as number[] | undefined;
    if (dilations?.some((d) => d !== 1)) this.fail(node, `dilations [${dilations.join(', ')}] are not supported`);
    const { padding, outHW } = this.convPadding(node, [k[0], k[1]], strides, [1, 1], x.shape ? [x.shape[2], x.shape[3]] : null);
    if (typeof padding !== 'string') this.fail(node, 'explicit asymmetric pooling pads are not supported');
    if (node.opType === 'AveragePool' && padding === 'SAME' && (node.attrs.count_include_pad as number | undefined) === 1) {
      this.fail(node, 'count_include_pad=1 with padding is not supported');
    }
    const xin = this.ref(x, 'nhwc');
    const attrs = { ksize: attr.ints([1, k[0], k[1], 1]), strides: attr.ints([1, strides[0], strides[1], 1]),
      padding: attr.s(padding), data_format: attr.s('NHWC') };
    const y = this.b.op(node.opType === 'MaxPool' ? 'MaxPool' : 'AvgPool', [xin], attrs);
    return { ref: y, layout: 'nhwc', shape: x.shape ? [x.shape[0], x.shape[1], outHW?.[0] ?? -1, outHW?.[1] ?? -1] : null, dtype: 'float32' };
  }

  batchNorm(node: OnnxNode, ins: (Val | undefined)[]): Val {
    const [x, gamma, beta, mean, variance] = ins as Val[];
    // A training-mode export (training_mode=1, or the running-stat outputs asked for) normalizes with the batch's own
    // statistics: folding the running ones in would compute another function.
    if ((node.attrs.training_mode as number | undefined) === 1 || node.outputs.filter((o) => o !== '').length > 1) {
      this.fail(node, 'training-mode BatchNormalization (batch statistics) is not supported: export the model in eval mode');
    }
    for (const [v, n] of [[gamma, 'scale'], [beta, 'B'], [mean, 'mean'], [variance, 'var']] as const) {
      if (v.value == null) this.fail(node, `${n} must be a constant (inference-mode BatchNorm only)`);
    }
    const eps = (node.attrs.epsilon as number | undefined) ?? 1e-5;
    const c = gamma.value!.data.length;
    const scale = new Float32Array(c);
    const shift = new Float32Array(c);
    for (let i = 0; i < c; i++) {
      scale[i] = gamma.value!.data[i] / Math.sqrt(variance.value!.data[i] + eps);
      shift[i] = beta.value!.data[i] - mean.value!.data[i] * scale[i];
    }
    const rank = x.shape?.length ?? 4;
    const layout: Layout = rank === 4 ? 'nhwc' : 'logical';
    if (rank !== 4 && rank !== 2) this.fail(node, `BatchNormalization on rank ${rank} input`);
    const y = this.b.add(this.b.mul(this.ref(x, layout), this.b.weight(`${node.name}/scale`, [c], scale)),
      this.b.weight(`${node.name}/shift`, [c], shift));
    return { ref: y, layout, shape: x.shape, dtype: 'float32' };
  }

  layerNorm(node: OnnxNode, ins: (Val | undefined)[]): Val {
    const [x, gamma, beta] = ins as [Val, Val, Val | undefined];
    const r = x.shape?.length;
    if (r == null) this.fail(node, 'input rank unknown');
    const axisRaw = (node.attrs.axis as number | undefined) ?? -1;
    const axis = axisRaw < 0 ? axisRaw + r : axisRaw;
    const eps = (node.attrs.epsilon as number | undefined) ?? 1e-5;
    if (gamma.value == null || (beta && beta.value == null)) this.fail(node, 'scale and bias must be constants');
    const xin = this.ref(x, 'logical');
    const width = tensorSize(gamma.value.shape);
    const betaT = beta?.value ?? floatConst(new Float32Array(width), gamma.value.shape);
    let y: string;
    if (axis === r - 1) {
      const g = this.b.graph.addConst(`${node.name}/gamma`, { ...gamma.value, shape: [width] });
      const bb = this.b.graph.addConst(`${node.name}/beta`, { ...betaT, shape: [width] });
      y = this.b.layerNorm(xin, g, bb, eps);
    } else {
      const axes = Array.from({ length: r - axis }, (_, i) => axis + i);
      const mean = this.b.mean(xin, axes);
      const centered = this.b.sub(xin, mean);
      const variance = this.b.mean(this.b.unary('Square', centered), axes);
      const inv = this.b.unary('Rsqrt', this.b.add(variance, this.b.scalar('ln_epsilon', eps)));
      y = this.b.add(this.b.mul(this.b.mul(centered, inv), this.b.graph.addConst(`${node.name}/gamma`, gamma.value)),
        this.b.graph.addConst(`${node.name}/beta`, betaT));
    }
    return { ref: y, layout: 'logical', shape: x.shape, dtype: 'float32' };
  }

  // ---- elementwise ----

  binary(node: OnnxNode, a: Val, b: Val): Val {
    const fns: Record<string, (x: number, y: number) => number> = {
      Add: (x, y) => x + y, Sub: (x, y) => x - y, Mul: (x, y) => x * y, Pow: (x, y) => x ** y,
      Div: (x, y) => (a.dtype === 'int32' && b.dtype === 'int32' ? Math.trunc(x / y) : x / y),
    };
    const shape = a.shape && b.shape ? broadcastShapes(a.shape, b.shape) : null;
    if (a.value && b.value) {
      const v = binaryConst(a.value, b.value, fns[node.opType]);
      return this.constVal(a.dtype === 'int32' && b.dtype === 'int32' ? { ...v, dtype: 'int32', data: Int32Array.from(v.data) } : v);
    }
    const vars = [a, b].filter((v) => v.value == null);
    const layout: Layout = vars.some((v) => v.layout === 'nhwc') && vars.every((v) => v.shape?.length === 4) ? 'nhwc' : 'logical';
    const operand = (v: Val): string => {
      if (v.value == null) return this.ref(v, layout);
      if (layout === 'nhwc' && v.value.shape.length > 0) {
        // Align to rank 4, permute to NHWC, drop leading ones: [C,1,1] -> [1,1,1,C] -> [C].
        const r4 = { ...v.value, shape: [...new Array(4 - v.value.shape.length).fill(1), ...v.value.shape] };
        return this.b.graph.addConst(`${node.name}/const`, squeezeLeading(transposeConst(r4, TO_NHWC)));
      }
      return this.ref(v, 'logical', `${node.name}/const`);
    };
    const op = { Add: 'AddV2', Sub: 'Sub', Mul: 'Mul', Div: a.dtype === 'int32' ? 'FloorDiv' : 'RealDiv', Pow: 'Pow' }[node.opType] as string;
    const y = this.b.op(op, [operand(a), operand(b)]);
    return { ref: y, layout, shape, dtype: a.dtype };
  }

  unary(node: OnnxNode, x: Val): Val {
    const folds: Record<string, (v: number) => number> = {
      Sqrt: Math.sqrt, Neg: (v) => -v, Reciprocal: (v) => 1 / v, Exp: Math.exp, Tanh: Math.tanh,
      Sigmoid: (v) => 1 / (1 + Math.exp(-v)), Relu: (v) => Math.max(0, v),
    };
    if (x.value && folds[node.opType]) return this.constVal(mapConst(x.value, folds[node.opType]));
    const y = this.b.unary(node.opType as 'Sqrt', this.ref(x, x.layout));
    return { ref: y, layout: x.layout, shape: x.shape, dtype: x.dtype };
  }

  hard(node: OnnxNode, x: Val): Val {
    const alpha = (node.attrs.alpha as number | undefined) ?? 1 / 6;
    const beta = (node.attrs.beta as number | undefined) ?? 0.5;
    const xin = this.ref(x, x.layout);
    const hs = this.b.clip(this.b.add(this.b.mul(xin, this.b.scalar('alpha', alpha)), this.b.scalar('beta', beta)), 0, 1);
    const y = node.opType === 'HardSwish' ? this.b.mul(xin, hs) : hs;
    return { ref: y, layout: x.layout, shape: x.shape, dtype: 'float32' };
  }

  clip(node: OnnxNode, ins: (Val | undefined)[]): Val {
    const x = ins[0] as Val;
    const lo = this.floatScalar(node, ins[1], 'min') ?? (node.attrs.min as number | undefined) ?? -Infinity;
    const hi = this.floatScalar(node, ins[2], 'max') ?? (node.attrs.max as number | undefined) ?? Infinity;
    const xin = this.ref(x, x.layout);
    let y: string;
    if (lo === 0 && hi === 6) y = this.b.unary('Relu6', xin);
    else if (lo === 0 && hi === Infinity) y = this.b.unary('Relu', xin);
    else y = this.b.clip(xin, Math.max(lo, -3.4e38), Math.min(hi, 3.4e38));
    return { ref: y, layout: x.layout, shape: x.shape, dtype: x.dtype };
  }

  // ---- linear algebra ----

  matMul(node: OnnxNode, a: Val, b: Val): Val {
    const ra = a.shape?.length;
    if (ra == null) this.fail(node, 'input rank unknown');
    const shape = b.shape ? [...(a.shape as number[]).slice(0, -1), b.shape[b.shape.length - 1]] : null;
    if (b.shape != null && ra >= 2 && b.shape.length >= 2) {
      this.sameDim(node, "A's columns and B's rows", a.shape![ra - 1], b.shape[b.shape.length - 2]);
      broadcastShapes(a.shape!.slice(0, -2), b.shape.slice(0, -2)); // batch dims: throws (named above) if they clash
    }
    if (b.value && b.value.shape.length === 2) {
      const w = this.b.graph.addConst(`${node.name}/weight`, b.value);
      return { ref: this.b.matMul(this.ref(a, 'logical'), w, ra), layout: 'logical', shape, dtype: 'float32' };
    }
    const y = this.b.op('BatchMatMulV2', [this.ref(a, 'logical'), this.ref(b, 'logical')],
      { adj_x: attr.b(false), adj_y: attr.b(false) });
    return { ref: y, layout: 'logical', shape, dtype: 'float32' };
  }

  gemm(node: OnnxNode, ins: (Val | undefined)[]): Val {
    const [a, b, c] = ins as [Val, Val, Val | undefined];
    const alpha = (node.attrs.alpha as number | undefined) ?? 1;
    const beta = (node.attrs.beta as number | undefined) ?? 1;
    const transA = (node.attrs.transA as number | undefined) === 1;
    const transB = (node.attrs.transB as number | undefined) === 1;
    if (a.shape?.length === 2 && b.shape?.length === 2) {
      this.sameDim(node, `A's ${transA ? 'rows (transA)' : 'columns'} and B's ${transB ? 'columns (transB)' : 'rows'}`,
        a.shape[transA ? 0 : 1], b.shape[transB ? 1 : 0]);
    }
    let ain = this.ref(a, 'logical');
    if (transA) ain = this.b.transpose(ain, [1, 0]);
    let y: string;
    let nOut = -1;
    if (b.value) {
      let w = transB ? transposeConst(b.value, [1, 0]) : b.value;
      if (alpha !== 1) w = mapConst(w, (v) => v * alpha);
      nOut = w.shape[1];
      y = this.b.matMul(ain, this.b.graph.addConst(`${node.name}/weight`, { ...w, precision: b.value.precision }), 2);
    } else {
      y = this.b.op('MatMul', [ain, this.ref(b, 'logical')], { transpose_a: attr.b(false), transpose_b: attr.b(transB) });
      if (alpha !== 1) y = this.b.mul(y, this.b.scalar('alpha', alpha));
    }
    if (c) {
      if (c.value) {
        const cv = beta !== 1 ? mapConst(c.value, (v) => v * beta) : c.value;
        const cRef = this.b.graph.addConst(`${node.name}/bias`, squeezeLeading(cv));
        y = squeezeLeading(cv).shape.length === 1 && squeezeLeading(cv).shape[0] === nOut ? this.b.biasAdd(y, cRef) : this.b.add(y, cRef);
      } else {
        let cin = this.ref(c, 'logical');
        if (beta !== 1) cin = this.b.mul(cin, this.b.scalar('beta', beta));
        y = this.b.add(y, cin);
      }
    }
    const m = a.shape ? a.shape[transA ? 1 : 0] : -1;
    return { ref: y, layout: 'logical', shape: [m, nOut], dtype: 'float32' };
  }

  // ---- layout and shapes ----

  transpose(node: OnnxNode, x: Val): Val {
    const r = x.shape?.length;
    if (r == null) this.fail(node, 'input rank unknown');
    const perm = (node.attrs.perm as number[] | undefined) ?? Array.from({ length: r }, (_, i) => r - 1 - i);
    const shape = perm.map((p) => (x.shape as number[])[p]);
    if (x.value) return this.constVal(transposeConst(x.value, perm));
    if (x.layout === 'nhwc') {
      // physical = transpose(L, TO_NHWC); output = transpose(L, perm) = transpose(physical, TO_NCHW o perm)
      const rel = composePerm(TO_NCHW, perm);
      if (isIdentity(rel)) return { ref: x.ref, layout: 'logical', shape, dtype: x.dtype };
      const y = this.b.transpose(x.ref as string, rel);
      return { ref: y, layout: 'logical', shape, dtype: x.dtype };
    }
    if (r === 4 && samePerm(perm, TO_NCHW)) {
      // NHWC -> NCHW of a logical value: the data already is the NHWC storage of the result.
      return { ref: x.ref, layout: 'nhwc', shape, dtype: x.dtype };
    }
    if (isIdentity(perm)) return x;
    return { ref: this.b.transpose(x.ref as string, perm), layout: 'logical', shape, dtype: x.dtype };
  }

  reshape(node: OnnxNode, x: Val, target: number[], allowZero: boolean): Val {
    const s = x.shape;
    const resolved = target.map((d, i) => {
      if (d !== 0 || allowZero) return d;
      if (s == null || s[i] == null) this.fail(node, 'Reshape copies a dimension (0) of an input with unknown shape');
      return s[i];
    });
    const known = knownSize(s);
    const unknown = resolved.filter((d) => d < 0).length;
    if (unknown === 1 && known != null) {
      const rest = tensorSize(resolved.filter((d) => d >= 0));
      resolved[resolved.findIndex((d) => d < 0)] = known / rest;
    }
    if (x.value) return this.constVal({ ...x.value, shape: resolved });
    const tf = [...resolved];
    const unknownNow = tf.filter((d) => d < 0).length;
    if (unknownNow > 1) this.fail(node, `Reshape to [${target.join(', ')}] has more than one unknown dimension`);
    const y = this.b.reshape(this.ref(x, 'logical'), tf);
    return { ref: y, layout: 'logical', shape: resolved, dtype: x.dtype };
  }

  /** Reshape to a shape computed at run time (dynamic batch); its known entries give the output shape. */
  dynamicReshape(node: OnnxNode, x: Val, target: Val): Val {
    const partial = target.partial as number[];
    if ((node.attrs.allowzero as number | undefined) !== 1 && partial.includes(0)) {
      this.fail(node, 'a run-time Reshape shape containing 0 (copy a dimension) is not supported');
    }
    const y = this.b.reshape(this.ref(x, 'logical'), this.ref(target, 'logical'));
    return { ref: y, layout: 'logical', shape: partial.map((d) => (d >= 0 ? d : -1)), dtype: x.dtype };
  }

  reduceMean(node: OnnxNode, ins: (Val | undefined)[]): Val {
    const x = ins[0] as Val;
    const r = x.shape?.length;
    if (r == null) this.fail(node, 'input rank unknown');
    let axes = (node.attrs.axes as number[] | undefined) ?? (ins[1] ? this.intsOf(node, ins[1], 'axes') : undefined);
    if (axes == null || axes.length === 0) {
      if ((node.attrs.noop_with_empty_axes as number | undefined) === 1) return x;
      axes = Array.from({ length: r }, (_, i) => i);
    }
    axes = axes.map((v) => (v < 0 ? v + r : v)).sort();
    const keep = (node.attrs.keepdims as number | undefined) ?? 1;
    const shape = (x.shape as number[]).flatMap((d, i) => (axes!.includes(i) ? (keep ? [1] : []) : [d]));
    if (x.layout === 'nhwc') {
      const phys = axes.map((v) => TO_NCHW[v]).sort();
      const remaining = [0, 1, 2, 3].filter((p) => !phys.includes(p)).map((p) => TO_NHWC[p]);
      const inOrder = remaining.every((v, i) => i === 0 || remaining[i - 1] < v);
      if (keep || inOrder) {
        const y = this.b.mean(x.ref as string, phys, keep === 1);
        return { ref: y, layout: keep ? 'nhwc' : 'logical', shape, dtype: 'float32' };
      }
    }
    const y = this.b.mean(this.ref(x, 'logical'), axes, keep === 1);
    return { ref: y, layout: 'logical', shape, dtype: 'float32' };
  }

  shapeOf(node: OnnxNode, x: Val): Val {
    const s = x.shape;
    if (s == null) this.fail(node, 'input rank unknown');
    const r = s.length;
    const norm = (v: number): number => Math.max(0, Math.min(r, v < 0 ? v + r : v));
    const start = norm((node.attrs.start as number | undefined) ?? 0);
    const end = norm((node.attrs.end as number | undefined) ?? r);
    const part = s.slice(start, end);
    if (part.every((d) => d >= 0)) return this.constVal(intConst(part));
    // Dynamic: read the stored shape and permute it back to the logical order.
    let shp = this.b.op('Shape', [x.ref ?? this.ref(x)], { out_type: attr.type('int32') });
    if (x.layout === 'nhwc') shp = this.b.op('GatherV2', [shp, this.b.ints('perm', TO_NCHW), this.b.ints('axis', [0], [])], { batch_dims: attr.i(0) });
    if (start !== 0 || end !== r) shp = this.b.stridedSlice(shp, [start], [end]);
    return { ref: shp, layout: 'logical', shape: [end - start], dtype: 'int32', partial: part };
  }

  gather(node: OnnxNode, data: Val, indices: Val): Val {
    const r = data.shape?.length;
    if (r == null) this.fail(node, 'input rank unknown');
    const axisRaw = (node.attrs.axis as number | undefined) ?? 0;
    const axis = axisRaw < 0 ? axisRaw + r : axisRaw;
    if (data.value && indices.value) return this.constVal(gatherConst(data.value, indices.value, axis));
    if (indices.value == null) this.fail(node, 'indices must be constant');
    const partial = data.partial && r === 1 ? Array.from(indices.value.data, (i) => data.partial![i < 0 ? i + r : i]) : undefined;
    const dim = (data.shape as number[])[axis];
    const idx = Array.from(indices.value.data, (v) => {
      if (v < 0 && dim < 0) this.fail(node, 'negative index into a dimension of unknown size');
      return v < 0 ? v + dim : v;
    });
    const y = this.b.op('GatherV2', [this.ref(data, 'logical'), this.b.ints('indices', idx, indices.value.shape),
      this.b.ints('axis', [axis], [])], { batch_dims: attr.i(0) });
    const shape = [...(data.shape as number[]).slice(0, axis), ...indices.value.shape, ...(data.shape as number[]).slice(axis + 1)];
    return { ref: y, layout: 'logical', shape, dtype: data.dtype, partial };
  }

  squeezeOrUnsqueeze(node: OnnxNode, ins: (Val | undefined)[]): Val {
    const x = ins[0] as Val;
    const s = x.shape;
    if (s == null) this.fail(node, 'input rank unknown');
    const axesIn = (node.attrs.axes as number[] | undefined) ?? (ins[1] ? this.intsOf(node, ins[1], 'axes') : undefined);
    let shape: number[];
    if (node.opType === 'Unsqueeze') {
      if (axesIn == null) this.fail(node, 'axes missing');
      const r = s.length + axesIn.length;
      const axes = axesIn.map((v) => (v < 0 ? v + r : v));
      shape = [];
      let j = 0;
      for (let i = 0; i < r; i++) shape.push(axes.includes(i) ? 1 : s[j++]);
    } else {
      const axes = (axesIn ?? s.flatMap((d, i) => (d === 1 ? [i] : []))).map((v) => (v < 0 ? v + s.length : v));
      shape = s.filter((_, i) => !axes.includes(i));
    }
    if (x.value) return this.constVal({ ...x.value, shape });
    if (shape.filter((d) => d < 0).length > 1) this.fail(node, 'more than one unknown dimension');
    const y = this.b.reshape(this.ref(x, 'logical'), shape);
    return { ref: y, layout: 'logical', shape, dtype: x.dtype, partial: x.partial };
  }

  concat(node: OnnxNode, ins: Val[]): Val {
    const r = ins[0].shape?.length;
    if (r == null) this.fail(node, 'input rank unknown');
    const axisRaw = node.attrs.axis as number;
    const axis = axisRaw < 0 ? axisRaw + r : axisRaw;
    if (ins.every((v) => v.value)) return this.constVal(concatConst(ins.map((v) => v.value as ConstTensor), axis));
    const shape = [...(ins[0].shape as number[])];
    shape[axis] = ins.reduce((sum, v) => (sum < 0 || v.shape == null || v.shape[axis] < 0 ? -1 : sum + v.shape[axis]), 0);
    const y = this.b.concat(ins.map((v) => this.ref(v, 'logical', `${node.name}/const`)), axis);
    const partial = r === 1 && ins.every((v) => v.value || v.partial)
      ? ins.flatMap((v) => (v.value ? Array.from(v.value.data) : v.partial as number[])) : undefined;
    return { ref: y, layout: 'logical', shape, dtype: ins[0].dtype, partial };
  }

  cast(node: OnnxNode, x: Val): Val {
    const to = ONNX_DTYPE[node.attrs.to as number];
    if (to == null) this.fail(node, `cast to ONNX type ${node.attrs.to as number} is not supported`);
    if (x.value) {
      const data = to === 'float32' ? Float32Array.from(x.value.data) : to === 'int32' ? Int32Array.from(x.value.data, Math.trunc)
        : Uint8Array.from(x.value.data, (v) => (v ? 1 : 0));
      return this.constVal({ dtype: to, shape: [...x.value.shape], data });
    }
    if (to === x.dtype) return x;
    const y = this.b.op('Cast', [this.ref(x, x.layout)], { DstT: attr.type(to) });
    return { ref: y, layout: x.layout, shape: x.shape, dtype: to, partial: x.partial };
  }
}

/** Lowers a decoded ONNX model to an NHWC IR graph of TF.js ops. */
export function lowerOnnx(model: OnnxModel, options: OnnxLowerOptions = {}): Graph {
  return new OnnxLowering(model, options).lower();
}

