/**
 * A small graph IR for the converter, at the level of TF.js GraphModel ops: every node's `op` is a name
 * tfjs-converter can execute (Conv2D, DepthwiseConv2dNative, MatMul, BiasAdd, Mean, ...) or one of the
 * package's fused ops (FusedConvNeXtBlock, FusedConvFirstBlock), with TF-style attributes. Importers
 * produce it (the ONNX importer after its NCHW -> NHWC layout pass), fusion passes rewrite it, the
 * GraphModel writer serializes it, and the model builders (models/) construct it directly.
 *
 * Values follow TensorFlow's naming: output 0 of node `n` is `n`, output i > 0 is `n:i`. A value is
 * produced by exactly one of: a graph input, a constant, or a node output. Nodes are kept in topological
 * order (`Graph.topoSort` restores it after edits). Pure data, no Node-only modules: runs in a browser.
 *
 * Stable API (used by models/ and the tests): `Graph`, `attr`, `ConstTensor`, `GraphInput`, `IRNode`,
 * `valueNode`, `valueIndex`, `tensorSize`. Build graphs with `GraphBuilder` (ir_builder.ts).
 */

export type DType = 'float32' | 'int32' | 'bool';

/** How a float32 constant's values are stored on disk (the writer keeps it unless asked to quantize). */
export type StoragePrecision = 'float32' | 'float16' | 'uint8' | 'uint16';

export interface ConstTensor {
  dtype: DType;
  shape: number[];
  /** Row-major values: Float32Array for float32, Int32Array for int32, Uint8Array (0/1) for bool. */
  data: Float32Array | Int32Array | Uint8Array;
  /** Precision the source stored this tensor in; undefined means float32 (or the dtype itself). */
  precision?: StoragePrecision;
}

/** TF AttrValue, as plain values (the writer encodes ints as strings and strings as base64). */
export type AttrValue =
  | { i: number }
  | { f: number }
  | { s: string }
  | { b: boolean }
  | { type: DType }
  | { shape: number[] } // -1 for an unknown dimension
  | { list: { i?: number[]; f?: number[]; s?: string[]; type?: DType[] } }
  /** An attribute kept verbatim from a TF.js model.json (written back unchanged). */
  | { raw: unknown };

/** Builders for attribute values: `attr.i(1)`, `attr.s('SAME')`, `attr.ints([1, 1, 1, 1])`. */
export const attr = {
  i: (v: number): AttrValue => ({ i: v }),
  f: (v: number): AttrValue => ({ f: v }),
  s: (v: string): AttrValue => ({ s: v }),
  b: (v: boolean): AttrValue => ({ b: v }),
  type: (v: DType): AttrValue => ({ type: v }),
  shape: (v: number[]): AttrValue => ({ shape: [...v] }),
  ints: (v: number[]): AttrValue => ({ list: { i: [...v] } }),
  floats: (v: number[]): AttrValue => ({ list: { f: [...v] } }),
  strs: (v: string[]): AttrValue => ({ list: { s: [...v] } }),
};

export interface IRNode {
  /** Unique within the graph; never contains ':'. */
  name: string;
  op: string;
  /** Value names, in the op's input order. */
  inputs: string[];
  attrs: Record<string, AttrValue>;
}

export interface GraphInput {
  name: string;
  dtype: DType;
  /** -1 marks a dynamic dimension (usually the batch). */
  shape: number[];
  /** Layout the user feeds (documentation for the model's consumer; the graph itself is NHWC inside). */
  layout?: 'NCHW' | 'NHWC';
  /** The source GraphModel's signature key for this input (e.g. `input_1`), kept so apps feed it by that key. */
  signatureKey?: string;
}

/**
 * A shape to run a graph input at: known dims as declared; an unknown batch (dim 0) `batch`; an unknown height /
 * width of a rank-4 input (axes 2, 3 of an NCHW input, else 1, 2) `spatial`; any other unknown dim 1 (a dynamic
 * channel count has no better guess). Shared by `convert --verify` and the demo, which differ only in the sizes.
 */
export function concreteInputShape(input: Pick<GraphInput, 'shape' | 'layout'>,
  sizes: { batch: number; spatial: number }): number[] {
  const spatialAxes = input.shape.length !== 4 ? [] : input.layout === 'NCHW' ? [2, 3] : [1, 2];
  return input.shape.map((d, axis) =>
    (d >= 0 ? d : axis === 0 ? sizes.batch : spatialAxes.includes(axis) ? sizes.spatial : 1));
}

/** The node name of a value name: `conv:1` -> `conv`. */
export function valueNode(value: string): string {
  const i = value.lastIndexOf(':');
  return i < 0 ? value : value.slice(0, i);
}

/** The output index of a value name: `conv:1` -> 1, `conv` -> 0. */
export function valueIndex(value: string): number {
  const i = value.lastIndexOf(':');
  return i < 0 ? 0 : Number(value.slice(i + 1));
}

export function tensorSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function sanitize(base: string): string {
  const s = base.replace(/[^A-Za-z0-9_./-]/g, '_').replace(/^[^A-Za-z0-9.]+/, '');
  return s.length === 0 ? 'node' : s;
}

export class Graph {
  inputs: GraphInput[] = [];
  /** Value names of the graph outputs, in order. */
  outputs: string[] = [];
  /**
   * The source GraphModel's signature key of each output (by position, e.g. `output_0`), so `execute(x, key)` and
   * `model.outputs` keep working after fusion renames the producing nodes. Absent: keyed by node name.
   */
  outputKeys?: string[];
  /** The source GraphModel's userDefinedMetadata, written back beside the converter's own entry. */
  metadata?: Record<string, unknown>;
  /** Topologically ordered. */
  nodes: IRNode[] = [];
  constants = new Map<string, ConstTensor>();
  private readonly taken = new Set<string>();

  /** A fresh node / constant name derived from `base` (made unique with a numeric suffix). */
  uniqueName(base: string): string {
    const b = sanitize(base);
    let name = b;
    for (let n = 1; this.taken.has(name) || this.nameInUse(name); n++) name = `${b}_${n}`;
    this.taken.add(name);
    return name;
  }

  private nameInUse(name: string): boolean {
    return this.constants.has(name) || this.inputs.some((i) => i.name === name) ||
      this.nodes.some((n) => n.name === name);
  }

  addInput(name: string, dtype: DType, shape: number[], layout?: GraphInput['layout']): string {
    const unique = this.uniqueName(name);
    this.inputs.push({ name: unique, dtype, shape: [...shape], ...(layout ? { layout } : {}) });
    return unique;
  }

  /** Adds a constant and returns its value name. */
  addConst(base: string, tensor: ConstTensor): string {
    if (tensor.data.length !== tensorSize(tensor.shape)) {
      throw new Error(`constant ${base}: ${tensor.data.length} values for shape [${tensor.shape.join(', ')}]`);
    }
    const name = this.uniqueName(base);
    this.constants.set(name, tensor);
    return name;
  }

  addFloatConst(base: string, shape: number[], values: ArrayLike<number>): string {
    return this.addConst(base, { dtype: 'float32', shape: [...shape], data: Float32Array.from(values) });
  }

  addIntConst(base: string, shape: number[], values: ArrayLike<number>): string {
    return this.addConst(base, { dtype: 'int32', shape: [...shape], data: Int32Array.from(values) });
  }

  /** Appends a node and returns the name of its output 0 (which equals the node name). */
  addNode(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, base: string = op): string {
    const name = this.uniqueName(base);
    this.nodes.push({ name, op, inputs: [...inputs], attrs: { ...attrs } });
    return name;
  }

  node(name: string): IRNode | undefined {
    return this.nodes.find((n) => n.name === name);
  }

  /** The node producing a value (undefined for inputs and constants). */
  producerMap(): Map<string, IRNode> {
    return new Map(this.nodes.map((n) => [n.name, n]));
  }

  /** Value name -> nodes reading it (a node reading a value twice is listed twice). */
  consumerMap(): Map<string, IRNode[]> {
    const m = new Map<string, IRNode[]>();
    for (const n of this.nodes) {
      for (const v of n.inputs) {
        const list = m.get(v);
        if (list) list.push(n); else m.set(v, [n]);
      }
    }
    return m;
  }

  /** Replaces every use of value `from` (node inputs and graph outputs) with `to`. */
  replaceUses(from: string, to: string): void {
    for (const n of this.nodes) n.inputs = n.inputs.map((v) => (v === from ? to : v));
    this.outputs = this.outputs.map((v) => (v === from ? to : v));
  }

  /** Drops nodes and constants nothing reachable from the outputs uses. */
  removeDead(): void {
    const producers = this.producerMap();
    const live = new Set<string>();
    const stack = [...this.outputs.map(valueNode)];
    while (stack.length > 0) {
      const name = stack.pop() as string;
      if (live.has(name)) continue;
      live.add(name);
      const n = producers.get(name);
      if (n) for (const v of n.inputs) stack.push(valueNode(v));
    }
    this.nodes = this.nodes.filter((n) => live.has(n.name));
    for (const c of [...this.constants.keys()]) if (!live.has(c)) this.constants.delete(c);
  }

  /** Restores topological order after rewrites; throws on a cycle or a dangling input. */
  topoSort(): void {
    const producers = this.producerMap();
    const done = new Set<string>();
    const visiting = new Set<string>();
    const order: IRNode[] = [];
    const visit = (n: IRNode): void => {
      if (done.has(n.name)) return;
      if (visiting.has(n.name)) throw new Error(`graph has a cycle through node ${n.name}`);
      visiting.add(n.name);
      for (const v of n.inputs) {
        const p = producers.get(valueNode(v));
        if (p) visit(p);
        else if (!this.isSource(valueNode(v))) throw new Error(`node ${n.name} (${n.op}) reads unknown value ${v}`);
      }
      visiting.delete(n.name);
      done.add(n.name);
      order.push(n);
    };
    for (const n of this.nodes) visit(n);
    this.nodes = order;
  }

  /** True for graph inputs and constants. */
  isSource(name: string): boolean {
    return this.constants.has(name) || this.inputs.some((i) => i.name === name);
  }

  /** Checks that every value read is defined and names are unique; throws a descriptive Error. */
  validate(): void {
    const names = new Set<string>();
    for (const n of [...this.inputs.map((i) => i.name), ...this.constants.keys(), ...this.nodes.map((x) => x.name)]) {
      if (names.has(n)) throw new Error(`graph: duplicate name ${n}`);
      if (n.includes(':')) throw new Error(`graph: name ${n} contains ':'`);
      names.add(n);
    }
    const defined = new Set<string>([...this.inputs.map((i) => i.name), ...this.constants.keys()]);
    for (const n of this.nodes) {
      for (const v of n.inputs) {
        if (!defined.has(valueNode(v))) throw new Error(`graph: node ${n.name} (${n.op}) reads ${v} before it is defined`);
      }
      defined.add(n.name);
    }
    for (const o of this.outputs) if (!defined.has(valueNode(o))) throw new Error(`graph: output ${o} is not defined`);
  }

  /** Op name -> count, for reports. */
  opCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const n of this.nodes) counts[n.op] = (counts[n.op] ?? 0) + 1;
    return counts;
  }

  /** A deep copy (constant data is shared: passes replace constants, they never mutate them). */
  clone(): Graph {
    const g = new Graph();
    g.inputs = this.inputs.map((i) => ({ ...i, shape: [...i.shape] }));
    g.outputs = [...this.outputs];
    if (this.outputKeys != null) g.outputKeys = [...this.outputKeys];
    if (this.metadata != null) g.metadata = structuredClone(this.metadata);
    g.nodes = this.nodes.map((n) => ({ name: n.name, op: n.op, inputs: [...n.inputs], attrs: structuredClone(n.attrs) }));
    g.constants = new Map(this.constants);
    for (const t of this.taken) g.taken.add(t);
    return g;
  }
}

/** Reads an int attribute (undefined if absent or of another kind). */
export function attrInt(node: IRNode, key: string): number | undefined {
  const a = node.attrs[key];
  return a != null && 'i' in a ? a.i : undefined;
}
export function attrFloat(node: IRNode, key: string): number | undefined {
  const a = node.attrs[key];
  return a != null && 'f' in a ? a.f : undefined;
}
export function attrStr(node: IRNode, key: string): string | undefined {
  const a = node.attrs[key];
  return a != null && 's' in a ? a.s : undefined;
}
export function attrBool(node: IRNode, key: string): boolean | undefined {
  const a = node.attrs[key];
  return a != null && 'b' in a ? a.b : undefined;
}
export function attrInts(node: IRNode, key: string): number[] | undefined {
  const a = node.attrs[key];
  return a != null && 'list' in a ? a.list.i : undefined;
}
