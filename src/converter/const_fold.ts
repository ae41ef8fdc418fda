/**
 * Constant folding on the IR, only where the folded value is bit-identical to what the op computes at run
 * time: data movement (Identity, Reshape, Transpose, ExpandDims, Squeeze, Pack, ConcatV2), Cast, and single
 * IEEE operations (+, -, *, /, neg, sqrt: computed in float64 and rounded once to float32, which is the
 * correctly rounded float32 result). Rsqrt, Erf and friends are left alone.
 */
import { binaryConst, concatConst, mapConst, transposeConst } from './const_eval.js';
import { attrInt, type ConstTensor, Graph, type IRNode, tensorSize } from './ir.js';

const round = (t: ConstTensor): ConstTensor =>
  (t.dtype === 'float32' && !(t.data instanceof Float32Array) ? { ...t, data: Float32Array.from(t.data) } : t);

function foldNode(n: IRNode, inputs: ConstTensor[]): ConstTensor | undefined {
  const [a, b] = inputs;
  const ints = (t: ConstTensor | undefined): number[] => Array.from(t?.data ?? []);
  switch (n.op) {
    case 'Identity': return a;
    case 'Reshape': {
      const shape = ints(b);
      const known = shape.filter((d) => d >= 0).reduce((x, y) => x * y, 1);
      const resolved = shape.map((d) => (d < 0 ? tensorSize(a.shape) / known : d));
      return tensorSize(resolved) === a.data.length ? { ...a, shape: resolved } : undefined;
    }
    case 'Transpose': return transposeConst(a, ints(b));
    case 'ExpandDims': {
      const axisRaw = ints(b)[0];
      const axis = axisRaw < 0 ? axisRaw + a.shape.length + 1 : axisRaw;
      return { ...a, shape: [...a.shape.slice(0, axis), 1, ...a.shape.slice(axis)] };
    }
    case 'Squeeze': {
      const listed = n.attrs.squeeze_dims ?? n.attrs.axis;
      const axes = listed != null && 'list' in listed ? (listed.list.i ?? []).map((x) => (x < 0 ? x + a.shape.length : x)) : [];
      return { ...a, shape: a.shape.filter((d, i) => d !== 1 || (axes.length > 0 && !axes.includes(i))) };
    }
    case 'Cast': {
      const to = n.attrs.DstT;
      if (to == null || !('type' in to)) return undefined;
      const data = to.type === 'float32' ? Float32Array.from(a.data) : to.type === 'int32' ? Int32Array.from(a.data, Math.trunc)
        : Uint8Array.from(a.data, (v) => (v ? 1 : 0));
      return { dtype: to.type, shape: [...a.shape], data };
    }
    case 'Pack': {
      if ((attrInt(n, 'axis') ?? 0) !== 0) return undefined;
      return concatConst(inputs.map((t) => ({ ...t, shape: [1, ...t.shape] })), 0);
    }
    case 'ConcatV2': {
      const axisRaw = ints(inputs[inputs.length - 1])[0];
      const parts = inputs.slice(0, -1);
      return concatConst(parts, axisRaw < 0 ? axisRaw + parts[0].shape.length : axisRaw);
    }
    case 'AddV2': case 'Add': return round(binaryConst(a, b, (x, y) => x + y));
    case 'Sub': return round(binaryConst(a, b, (x, y) => x - y));
    case 'Mul': return round(binaryConst(a, b, (x, y) => x * y));
    case 'RealDiv': return a.dtype === 'float32' ? round(binaryConst(a, b, (x, y) => x / y)) : undefined;
    case 'Neg': return mapConst(a, (x) => -x);
    case 'Sqrt': return a.dtype === 'float32' ? mapConst(a, Math.sqrt) : undefined;
    default: return undefined;
  }
}

/** Replaces nodes whose inputs are all constants by their value; returns how many were folded. */
export function foldConstants(graph: Graph): number {
  let folded = 0;
  const kept: IRNode[] = [];
  for (const n of graph.nodes) {
    const inputs = n.inputs.map((v) => graph.constants.get(v));
    const value = n.inputs.length > 0 && inputs.every((t) => t != null) && !graph.outputs.includes(n.name)
      ? foldNode(n, inputs as ConstTensor[]) : undefined;
    if (value == null) {
      kept.push(n);
      continue;
    }
    // The node's name becomes the constant's: readers are unchanged.
    const precision = (inputs as ConstTensor[]).find((t) => t.precision)?.precision;
    graph.constants.set(n.name, precision && value.dtype === 'float32' ? { ...value, precision } : value);
    folded++;
  }
  graph.nodes = kept;
  graph.removeDead();
  return folded;
}
