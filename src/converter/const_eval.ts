/**
 * Constant evaluation on ConstTensors in plain JS: what the importers and the folding pass need
 * (broadcast arithmetic, transposes, gathers, concatenation). Float math is float32-rounded like the op
 * it replaces, so folding is exact for the shape arithmetic and single elementwise steps it is used on.
 */
import type { ConstTensor } from './ir.js';
import { tensorSize } from './ir.js';

export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da === 1) out.push(db);
    else if (db === 1 || da === db) out.push(da);
    else if (da === -1 || db === -1) out.push(Math.max(da, db));
    else throw new Error(`shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
  }
  return out;
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** Elementwise binary op with numpy broadcasting. */
export function binaryConst(a: ConstTensor, b: ConstTensor, fn: (x: number, y: number) => number): ConstTensor {
  const shape = broadcastShapes(a.shape, b.shape);
  const n = tensorSize(shape);
  const isFloat = a.dtype === 'float32' || b.dtype === 'float32';
  const out = isFloat ? new Float32Array(n) : new Int32Array(n);
  const os = strides(shape);
  const index = (t: ConstTensor, flat: number): number => {
    const ts = strides(t.shape);
    let off = 0;
    for (let i = 0; i < shape.length; i++) {
      const axis = t.shape.length - shape.length + i;
      if (axis < 0) continue;
      const coord = Math.floor(flat / os[i]) % shape[i];
      off += (t.shape[axis] === 1 ? 0 : coord) * ts[axis];
    }
    return off;
  };
  for (let i = 0; i < n; i++) out[i] = fn(a.data[index(a, i)], b.data[index(b, i)]);
  return { dtype: isFloat ? 'float32' : a.dtype, shape, data: out };
}

export function mapConst(t: ConstTensor, fn: (x: number) => number): ConstTensor {
  const data = t.dtype === 'float32' ? Float32Array.from(t.data, fn) : Int32Array.from(t.data, fn);
  return { dtype: t.dtype === 'bool' ? 'int32' : t.dtype, shape: [...t.shape], data, precision: t.precision };
}

export function transposeConst(t: ConstTensor, perm: readonly number[]): ConstTensor {
  const shape = perm.map((p) => t.shape[p]);
  const n = tensorSize(shape);
  const inStrides = strides(t.shape);
  const outStrides = strides(shape);
  const data = new (t.data.constructor as Float32ArrayConstructor)(n) as ConstTensor['data'];
  for (let i = 0; i < n; i++) {
    let src = 0;
    for (let d = 0; d < shape.length; d++) src += (Math.floor(i / outStrides[d]) % shape[d]) * inStrides[perm[d]];
    data[i] = t.data[src];
  }
  return { dtype: t.dtype, shape, data, precision: t.precision };
}

export function reshapeConst(t: ConstTensor, shape: number[]): ConstTensor {
  return { ...t, shape: [...shape] };
}

/** numpy.take(t, indices, axis). */
export function gatherConst(t: ConstTensor, indices: ConstTensor, axis: number): ConstTensor {
  const outer = tensorSize(t.shape.slice(0, axis));
  const inner = tensorSize(t.shape.slice(axis + 1));
  const dim = t.shape[axis];
  const idx = Array.from(indices.data, (v) => (v < 0 ? v + dim : v));
  const shape = [...t.shape.slice(0, axis), ...indices.shape, ...t.shape.slice(axis + 1)];
  const data = new (t.data.constructor as Float32ArrayConstructor)(tensorSize(shape)) as ConstTensor['data'];
  let o = 0;
  for (let a = 0; a < outer; a++) {
    for (const i of idx) {
      if (i < 0 || i >= dim) throw new Error(`gather index ${i} out of range for dimension ${dim}`);
      for (let b = 0; b < inner; b++) data[o++] = t.data[(a * dim + i) * inner + b];
    }
  }
  return { dtype: t.dtype, shape, data, precision: t.precision };
}

export function concatConst(ts: ConstTensor[], axis: number): ConstTensor {
  const shape = [...ts[0].shape];
  shape[axis] = ts.reduce((s, t) => s + t.shape[axis], 0);
  const outer = tensorSize(shape.slice(0, axis));
  const isFloat = ts.some((t) => t.dtype === 'float32');
  const data = isFloat ? new Float32Array(tensorSize(shape)) : new Int32Array(tensorSize(shape));
  let o = 0;
  for (let a = 0; a < outer; a++) {
    for (const t of ts) {
      const chunk = tensorSize(t.shape.slice(axis));
      for (let i = 0; i < chunk; i++) data[o++] = t.data[a * chunk + i];
    }
  }
  return { dtype: isFloat ? 'float32' : ts[0].dtype, shape, data };
}

export function intConst(values: number[], shape: number[] = [values.length]): ConstTensor {
  return { dtype: 'int32', shape, data: Int32Array.from(values) };
}

export function floatConst(values: ArrayLike<number>, shape: number[]): ConstTensor {
  return { dtype: 'float32', shape, data: Float32Array.from(values) };
}

/** The single value of a tensor whose elements are all equal (undefined otherwise or when empty). */
export function uniformValue(t: ConstTensor): number | undefined {
  if (t.data.length === 0) return undefined;
  const v = t.data[0];
  for (let i = 1; i < t.data.length; i++) if (t.data[i] !== v) return undefined;
  return v;
}

/** Drops leading size-1 dims (broadcasting makes them redundant). */
export function squeezeLeading(t: ConstTensor): ConstTensor {
  let i = 0;
  while (i < t.shape.length - 1 && t.shape[i] === 1) i++;
  return i === 0 ? t : { ...t, shape: t.shape.slice(i) };
}
