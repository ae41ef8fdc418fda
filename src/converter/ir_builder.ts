/**
 * GraphBuilder: adds TF.js GraphModel ops to an IR `Graph` with the attributes tfjs-converter expects,
 * all NHWC. It is THE way graphs are built: the ONNX layout pass lowers ONNX ops through it and models/
 * builds ConvNeXt / ConvFirstNet with it, so the composite forms below (layer norm, exact GELU, SiLU,
 * grouped conv) are the same everywhere and the fusion passes recognize them.
 *
 *   const b = new GraphBuilder();
 *   const x = b.input('x', [-1, 64, 64, 3]);
 *   const y = b.conv2d(x, b.weight('stem', [4, 4, 3, 16], data), { strides: 4, padding: 'VALID' });
 *   b.output(y);
 *   const files = writeGraphModel(b.graph);
 */
import { type ConvFirstAttrs, type ConvNeXtAttrs, FUSED_CONVFIRST_BLOCK, FUSED_CONVNEXT_BLOCK, FUSED_LAYER_NORM }
  from '../spec/block_spec.js';
import { FUSED_PATCH_CONV } from '../spec/patch_conv.js';
import { FUSED_CLASSIFIER_HEAD } from '../spec/classifier_head.js';
import { type AttrValue, attr, type DType, Graph, type GraphInput } from './ir.js';

export type Padding = 'SAME' | 'VALID' | [number, number, number, number]; // explicit [top, bottom, left, right]

export interface ConvOptions {
  strides?: number | [number, number];
  padding?: Padding;
  dilations?: number | [number, number];
  /** Optional bias (1-D), added with BiasAdd. */
  bias?: string;
  name?: string;
}

function pair(v: number | [number, number] | undefined, d: number): [number, number] {
  return v == null ? [d, d] : typeof v === 'number' ? [v, v] : v;
}

function convAttrs(o: ConvOptions): Record<string, AttrValue> {
  const [sh, sw] = pair(o.strides, 1);
  const [dh, dw] = pair(o.dilations, 1);
  const pad = o.padding ?? 'SAME';
  const a: Record<string, AttrValue> = {
    strides: attr.ints([1, sh, sw, 1]), dilations: attr.ints([1, dh, dw, 1]), data_format: attr.s('NHWC'),
    padding: attr.s(typeof pad === 'string' ? pad : 'EXPLICIT'), T: attr.type('float32'),
  };
  if (typeof pad !== 'string') a.explicit_paddings = attr.ints([0, 0, pad[0], pad[1], pad[2], pad[3], 0, 0]);
  return a;
}

export class GraphBuilder {
  constructor(readonly graph: Graph = new Graph()) {}

  input(name: string, shape: number[], dtype: DType = 'float32', layout?: GraphInput['layout']): string {
    return this.graph.addInput(name, dtype, shape, layout);
  }

  output(value: string): void {
    this.graph.outputs.push(value);
  }

  /** A float32 constant (weights). */
  weight(name: string, shape: number[], values: ArrayLike<number>): string {
    return this.graph.addFloatConst(name, shape, values);
  }

  ints(name: string, values: number[], shape: number[] = [values.length]): string {
    return this.graph.addIntConst(name, shape, values);
  }

  scalar(name: string, value: number): string {
    return this.graph.addFloatConst(name, [], [value]);
  }

  op(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, name?: string): string {
    return this.graph.addNode(op, inputs, attrs, name ?? op);
  }

  // ---- convolutions (x NHWC) ----

  /** Dense conv, filter [kh, kw, Cin, Cout]. */
  conv2d(x: string, filter: string, o: ConvOptions = {}): string {
    const y = this.op('Conv2D', [x, filter], convAttrs(o), o.name);
    return o.bias ? this.biasAdd(y, o.bias) : y;
  }

  /** Depthwise conv, filter [kh, kw, C, multiplier]. */
  depthwiseConv2d(x: string, filter: string, o: ConvOptions = {}): string {
    const a = convAttrs(o);
    delete a.T;
    const y = this.op('DepthwiseConv2dNative', [x, filter], a, o.name);
    return o.bias ? this.biasAdd(y, o.bias) : y;
  }

  /**
   * Grouped conv with filter values [kh, kw, G, Cout] (G input channels per group, `inChannels / G`
   * groups, output o in group floor(o / (Cout / groups))): stock TF.js has no grouped conv, so it is one
   * depthwise conv with channel multiplier Cout / groups and a sum over each group's G inputs
   * (block_reference.ts groupedConv2d). The Reshape shapes come from Shape(x) so any batch and spatial
   * size works. inChannels defaults to Cout.
   */
  groupedConv2d(x: string, filterValues: Float32Array, filterShape: [number, number, number, number],
    o: ConvOptions & { weightName?: string; inChannels?: number } = {}): string {
    const [kh, kw, g, cout] = filterShape;
    const cin = o.inChannels ?? cout;
    const groups = cin / g;
    if (!Number.isInteger(groups) || cout % groups !== 0) {
      throw new Error(`groupedConv2d: ${cin} input channels, group width ${g} and ${cout} outputs do not form groups`);
    }
    const og = cout / groups;
    if (groups === 1) {
      return this.conv2d(x, this.weight(o.weightName ?? 'filter', [kh, kw, cin, cout], filterValues), o);
    }
    if (g === 1) {
      // depthwise, multiplier og: output grp*og + m reads input grp, which is TF's channel order.
      return this.depthwiseConv2d(x, this.weight(o.weightName ?? 'dw_filter', [kh, kw, cin, og], filterValues), o);
    }
    // depthwise channel i*og + m (input i = grp*G + li) holds input li of group grp convolved for output grp*og + m.
    const dw = new Float32Array(kh * kw * cin * og);
    for (let s = 0; s < kh * kw; s++) {
      for (let i = 0; i < cin; i++) {
        const grp = Math.floor(i / g);
        const li = i % g;
        for (let m = 0; m < og; m++) dw[(s * cin + i) * og + m] = filterValues[(s * g + li) * cout + grp * og + m];
      }
    }
    const f = this.weight(o.weightName ?? 'grouped_filter', [kh, kw, cin, og], dw);
    const partial = this.depthwiseConv2d(x, f, { ...o, bias: undefined });
    const shape = this.op('Shape', [partial], { out_type: attr.type('int32') });
    const nhw = this.stridedSlice(shape, [0], [3]);
    const axis0 = this.ints('axis0', [0], []);
    const split = this.op('ConcatV2', [nhw, this.ints('group_dims', [groups, g, og]), axis0], { N: attr.i(2) });
    const summed = this.sum(this.reshape(partial, split), [4]);
    const back = this.op('ConcatV2', [nhw, this.ints('channels', [cout]), axis0], { N: attr.i(2) });
    const y = this.reshape(summed, back);
    return o.bias ? this.biasAdd(y, o.bias) : y;
  }

  stridedSlice(x: string, begin: number[], end: number[], strides: number[] = begin.map(() => 1)): string {
    return this.op('StridedSlice', [x, this.ints('begin', begin), this.ints('end', end), this.ints('strides', strides)], {
      begin_mask: attr.i(0), end_mask: attr.i(0), ellipsis_mask: attr.i(0), new_axis_mask: attr.i(0),
      shrink_axis_mask: attr.i(0) });
  }

  avgPool(x: string, k: number, stride: number, padding: 'SAME' | 'VALID' = 'VALID'): string {
    return this.op('AvgPool', [x], { ksize: attr.ints([1, k, k, 1]), strides: attr.ints([1, stride, stride, 1]),
      padding: attr.s(padding), data_format: attr.s('NHWC') });
  }

  maxPool(x: string, k: number, stride: number, padding: 'SAME' | 'VALID' = 'VALID'): string {
    return this.op('MaxPool', [x], { ksize: attr.ints([1, k, k, 1]), strides: attr.ints([1, stride, stride, 1]),
      padding: attr.s(padding), data_format: attr.s('NHWC') });
  }

  // ---- elementwise ----
  biasAdd(x: string, b: string): string { return this.op('BiasAdd', [x, b], { data_format: attr.s('NHWC') }); }
  add(a: string, b: string): string { return this.op('AddV2', [a, b]); }
  sub(a: string, b: string): string { return this.op('Sub', [a, b]); }
  mul(a: string, b: string): string { return this.op('Mul', [a, b]); }
  div(a: string, b: string): string { return this.op('RealDiv', [a, b]); }
  pow(a: string, b: string): string { return this.op('Pow', [a, b]); }
  unary(op: 'Erf' | 'Sigmoid' | 'Relu' | 'Relu6' | 'Rsqrt' | 'Sqrt' | 'Square' | 'Neg' | 'Tanh' | 'Identity' | 'Exp',
    x: string): string { return this.op(op, [x]); }
  clip(x: string, lo: number, hi: number): string {
    return this.op('ClipByValue', [x, this.scalar('clip_min', lo), this.scalar('clip_max', hi)]);
  }

  // ---- reductions and shapes ----
  mean(x: string, axes: number[], keepDims = true): string {
    return this.op('Mean', [x, this.ints('axes', axes)], { keep_dims: attr.b(keepDims) });
  }
  sum(x: string, axes: number[], keepDims = false): string {
    return this.op('Sum', [x, this.ints('axes', axes)], { keep_dims: attr.b(keepDims) });
  }
  /** Reshape to a constant shape (use -1 for one inferred dim) or to a computed int32 shape value. */
  reshape(x: string, shape: number[] | string): string {
    return this.op('Reshape', [x, typeof shape === 'string' ? shape : this.ints('shape', shape)]);
  }
  transpose(x: string, perm: number[]): string {
    return this.op('Transpose', [x, this.ints('perm', perm)]);
  }
  concat(values: string[], axis: number): string {
    return this.op('ConcatV2', [...values, this.ints('axis', [axis], [])], { N: attr.i(values.length) });
  }

  /** a [.., K] x b [K, N]: MatMul for rank 2 operands, BatchMatMulV2 (broadcasting) otherwise. */
  matMul(a: string, b: string, rankA = 2, transposeB = false): string {
    return rankA === 2
      ? this.op('MatMul', [a, b], { transpose_a: attr.b(false), transpose_b: attr.b(transposeB) })
      : this.op('BatchMatMulV2', [a, b], { adj_x: attr.b(false), adj_y: attr.b(transposeB) });
  }

  // ---- composites recognized by the fusion passes ----

  /** LayerNorm over the last axis: (x - mean) * rsqrt(var + eps) * gamma + beta. */
  layerNorm(x: string, gamma: string, beta: string, epsilon: number): string {
    const mean = this.mean(x, [-1]);
    const centered = this.sub(x, mean);
    const variance = this.mean(this.unary('Square', centered), [-1]);
    const inv = this.unary('Rsqrt', this.add(variance, this.scalar('ln_epsilon', epsilon)));
    return this.add(this.mul(this.mul(centered, inv), gamma), beta);
  }

  /** Exact GELU: x * 0.5 * (1 + erf(x / sqrt(2))). */
  gelu(x: string): string {
    const e = this.unary('Erf', this.div(x, this.scalar('sqrt2', Math.SQRT2)));
    return this.mul(this.mul(x, this.add(e, this.scalar('one', 1))), this.scalar('half', 0.5));
  }

  /** tanh GELU: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
  geluTanh(x: string): string {
    const cube = this.mul(this.mul(x, x), x);
    const inner = this.mul(this.add(x, this.mul(cube, this.scalar('gelu_c', 0.044715))),
      this.scalar('sqrt_2_over_pi', Math.sqrt(2 / Math.PI)));
    return this.mul(this.mul(x, this.add(this.unary('Tanh', inner), this.scalar('one', 1))), this.scalar('half', 0.5));
  }

  silu(x: string): string { return this.mul(x, this.unary('Sigmoid', x)); }

  activation(x: string, act: ConvNeXtAttrs['activation']): string {
    switch (act) {
      case 'gelu': return this.gelu(x);
      case 'gelu_tanh': return this.geluTanh(x);
      case 'silu': return this.silu(x);
      case 'relu': return this.unary('Relu', x);
      case 'relu6': return this.unary('Relu6', x);
    }
  }

  // ---- fused ops (inputs in the op's order, see src/spec/block_spec.ts and src/spec/layer_norm.ts) ----

  /** One FusedLayerNorm node: what the fusion pass makes of layerNorm(x, gamma, beta, epsilon). */
  fusedLayerNorm(x: string, gamma: string, beta: string, epsilon: number, name = 'layer_norm'): string {
    return this.op(FUSED_LAYER_NORM, [x, gamma, beta], { epsilon: attr.f(epsilon) }, name);
  }

  /**
   * One FusedPatchConv node (src/spec/patch_conv.ts): what the fusion pass makes of conv2d(x, filter
   * [k,k,Cin,Cout], stride k, VALID) + bias, with a LayerNorm right before it as `preNorm`.
   */
  fusedPatchConv(x: string, filter: string, o: { bias?: string; preNorm?: { gamma: string; beta: string; epsilon: number };
    postNorm?: { gamma: string; beta: string; epsilon: number } } = {}, name = 'patch_conv'): string {
    const inputs = [x, filter, ...(o.bias ? [o.bias] : []), ...(o.preNorm ? [o.preNorm.gamma, o.preNorm.beta] : []),
      ...(o.postNorm ? [o.postNorm.gamma, o.postNorm.beta] : [])];
    return this.op(FUSED_PATCH_CONV, inputs, patchConvNodeAttrs(o.bias != null, o.preNorm?.epsilon, o.postNorm?.epsilon),
      name);
  }

  /**
   * One FusedClassifierHead node (src/spec/classifier_head.ts): what the fusion pass makes of mean(x, [1, 2])
   * -> layerNorm(gamma, beta, epsilon) -> matMul(weight [C, K]) -> biasAdd(bias [K]).
   */
  fusedClassifierHead(x: string, gamma: string, beta: string, weight: string, bias: string, epsilon: number,
    name = 'classifier_head'): string {
    return this.op(FUSED_CLASSIFIER_HEAD, [x, gamma, beta, weight, bias], { epsilon: attr.f(epsilon) }, name);
  }

  /** inputs: dwFilter, dwBias, lnGamma, lnBeta, w1, b1, w2, b2[, layerScale] (value names). */
  fusedConvNeXtBlock(x: string, weights: string[], attrs: ConvNeXtAttrs, name = 'convnext_block'): string {
    if (weights.length !== 8 && weights.length !== 9) throw new Error(`fusedConvNeXtBlock: 8 or 9 weights, got ${weights.length}`);
    return this.op(FUSED_CONVNEXT_BLOCK, [x, ...weights],
      { epsilon: attr.f(attrs.epsilon), activation: attr.s(attrs.activation) }, name);
  }

  /** inputs: filter [k,k,G,C], bias, w1, b1, w2, b2 (value names). */
  fusedConvFirstBlock(x: string, weights: string[], attrs: ConvFirstAttrs, name = 'convfirst_block'): string {
    if (weights.length !== 6) throw new Error(`fusedConvFirstBlock: 6 weights, got ${weights.length}`);
    return this.op(FUSED_CONVFIRST_BLOCK, [x, ...weights],
      { activation: attr.s(attrs.activation), residual: attr.b(attrs.residual) }, name);
  }
}

/** A FusedPatchConv node's attrs (the converter pass and the model builder write the same). */
export function patchConvNodeAttrs(hasBias: boolean, preEpsilon?: number, postEpsilon?: number): Record<string, AttrValue> {
  return { has_bias: attr.b(hasBias), pre_norm: attr.b(preEpsilon != null),
    ...(preEpsilon != null ? { epsilon: attr.f(preEpsilon) } : {}),
    ...(postEpsilon != null ? { post_norm: attr.b(true), post_epsilon: attr.f(postEpsilon) } : {}) };
}
