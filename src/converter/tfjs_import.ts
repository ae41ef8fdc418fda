/**
 * Imports a TF.js GraphModel (model.json made by tensorflowjs_converter, plus its weight shards) into
 * the IR. Weights are dequantized to float32 and remember their stored precision (float16 / uint8 / uint16), so
 * the writer keeps it. Browser-safe: takes the parsed model.json and the shard bytes, never paths.
 */
import { ConversionError, type UnsupportedNode, unsupportedOpsError } from './errors.js';
import { float16BitsToFloat32 } from './float16.js';
import { FUSED_OPS } from './fused_ops.js';
import { type AttrValue, type ConstTensor, type DType, Graph, type IRNode, type StoragePrecision, tensorSize } from './ir.js';
import { TFJS_GRAPH_OPS } from './tfjs_ops.js';

export interface TfjsWeightEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; min?: number; scale?: number };
}

export interface TfjsModelJson {
  format?: string;
  modelTopology?: { node?: TfjsNodeDef[] };
  signature?: { inputs?: Record<string, { name: string }>; outputs?: Record<string, { name: string }> };
  weightsManifest?: { paths: string[]; weights: TfjsWeightEntry[] }[];
  userDefinedMetadata?: Record<string, unknown>;
}

export interface TfjsNodeDef { name: string; op: string; input?: string[]; attr?: Record<string, Record<string, unknown>> }

const DTYPES: Record<string, DType> = { DT_FLOAT: 'float32', DT_INT32: 'int32', DT_BOOL: 'bool' };

function fromBase64(s: string): string {
  const bin = atob(s);
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** TF AttrValue JSON -> IR attribute (kept verbatim when there is no plain equivalent). */
export function decodeTfAttr(a: Record<string, unknown>): AttrValue {
  if (a.i != null) return { i: Number(a.i) };
  if (a.f != null) return { f: Number(a.f) };
  if (a.b != null) return { b: Boolean(a.b) };
  if (typeof a.s === 'string') return { s: fromBase64(a.s) };
  if (typeof a.type === 'string' && DTYPES[a.type]) return { type: DTYPES[a.type] };
  const list = a.list as Record<string, unknown[]> | undefined;
  if (list != null) {
    const keys = Object.keys(list);
    if (keys.length === 0) return { raw: a };
    if (keys.length === 1 && keys[0] === 'i') return { list: { i: list.i.map(Number) } };
    if (keys.length === 1 && keys[0] === 'f') return { list: { f: list.f.map(Number) } };
    if (keys.length === 1 && keys[0] === 's') return { list: { s: (list.s as string[]).map(fromBase64) } };
  }
  return { raw: a };
}

export interface TfjsImportOptions {
  /**
   * Op names the app registers with tfjs-converter's `registerOp`, accepted besides the ops TF.js runs
   * itself and this package's fused ops (any other op is reported, as the GraphModel could not run).
   */
  customOps?: Iterable<string>;
}

/**
 * Throws a ConversionError unless `json` looks like a TF.js GraphModel's model.json (an object with
 * modelTopology.node and, if present, a well-formed weightsManifest). `what` names the file in messages.
 */
export function checkGraphModelJson(json: unknown, what = 'model.json'):
  asserts json is TfjsModelJson & { modelTopology: { node: TfjsNodeDef[] } } {
  if (json == null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ConversionError(`${what} is not a GraphModel (expected an object with modelTopology and ` +
      `weightsManifest, got ${json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json})`);
  }
  const mj = json as TfjsModelJson;
  if (mj.modelTopology?.node == null || !Array.isArray(mj.modelTopology.node)) {
    throw new ConversionError(`${what} has no modelTopology.node: not a TF.js GraphModel (a Layers model? ` +
      'convert it with tensorflowjs_converter --output_format=tfjs_graph_model first)');
  }
  if (mj.format != null && mj.format !== 'graph-model') {
    throw new ConversionError(`${what} format is '${mj.format}', expected 'graph-model'`);
  }
  mj.modelTopology.node.forEach((n, i) => {
    const problem = n == null || typeof n !== 'object' ? `is ${JSON.stringify(n)}, not a node` : typeof n.name !== 'string'
      ? 'has no name' : typeof n.op !== 'string' ? `'${n.name}' has no op` : null;
    if (problem != null) throw new ConversionError(`${what}'s modelTopology: node #${i} ${problem}`);
  });
  const manifest = mj.weightsManifest as unknown;
  if (manifest != null && !(Array.isArray(manifest) &&
    manifest.every((g) => g != null && Array.isArray(g.paths) && Array.isArray(g.weights)))) {
    throw new ConversionError(`${what}'s weightsManifest is not a list of { paths, weights } groups`);
  }
  for (const group of mj.weightsManifest ?? []) {
    const path = group.paths.find((p) => typeof p !== 'string' || p === '');
    if (path !== undefined) {
      throw new ConversionError(`${what}'s weightsManifest lists a shard path ${JSON.stringify(path)}, not a file name`);
    }
    // Checked here, so a corrupt entry is named instead of failing as a TypeError or a wrong size further on.
    group.weights.forEach((w, k) => {
      const problem = weightEntryProblem(w);
      if (problem != null) throw new ConversionError(`${what}'s weightsManifest: weight #${k} ${problem}`);
    });
  }
  for (const side of ['inputs', 'outputs'] as const) {
    const entries = (mj.signature as Record<string, unknown> | undefined)?.[side];
    if (entries == null) continue;
    const ok = typeof entries === 'object' && !Array.isArray(entries) &&
      Object.values(entries).every((t) => t != null && typeof (t as { name?: unknown }).name === 'string');
    if (!ok) throw new ConversionError(`${what}'s signature.${side} is not a map of { name: 'node:0', ... } tensor infos`);
  }
}

/** What is wrong with a weightsManifest entry's name, shape or dtype, or null (the values are checked later). */
function weightEntryProblem(w: unknown): string | null {
  if (w == null || typeof w !== 'object') return `is ${JSON.stringify(w)}, not a { name, shape, dtype } weight`;
  const { name, shape, dtype } = w as Record<string, unknown>;
  if (typeof name !== 'string') return `has no name (${JSON.stringify(w).slice(0, 80)})`;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    return `'${name}' has shape ${JSON.stringify(shape)}, not a list of non-negative integers`;
  }
  if (typeof dtype !== 'string') return `'${name}' has no dtype`;
  return null;
}

/**
 * Bytes the manifest says a weight group's shards hold together (null when a weight's dtype has no fixed
 * size, e.g. string): lets file readers name a truncated shard before the weights are decoded.
 */
export function weightGroupBytes(group: { weights: TfjsWeightEntry[] }): number | null {
  try {
    return group.weights.reduce((s, w) => s + tensorSize(w.shape) * storedBytes(w), 0);
  } catch {
    return null;
  }
}

/** Byte size of one stored element. */
function storedBytes(w: TfjsWeightEntry): number {
  const q = w.quantization?.dtype;
  if (q === 'uint8') return 1;
  if (q === 'uint16' || q === 'float16') return 2;
  // Any other quantization is no format TF.js reads: reading its bytes as the plain dtype would make garbage weights.
  if (w.quantization != null) {
    throw new ConversionError(`weight '${w.name}' is quantized as ${JSON.stringify(q)}, which TF.js does not read ` +
      '(uint8, uint16 or float16)');
  }
  if (w.dtype === 'bool') return 1;
  if (w.dtype === 'float32' || w.dtype === 'int32') return 4;
  throw new ConversionError(`weight '${w.name}' has dtype ${w.dtype}, which the converter does not support`);
}

/** Decodes every weight of the manifest from the concatenated shard bytes. */
export function decodeWeights(entries: TfjsWeightEntry[], data: Uint8Array): Map<string, ConstTensor> {
  const out = new Map<string, ConstTensor>();
  let off = 0;
  for (const w of entries) {
    const n = tensorSize(w.shape);
    const bytes = n * storedBytes(w);
    if (off + bytes > data.byteLength) {
      throw new ConversionError(`weight data ends after ${data.byteLength} bytes, but '${w.name}' needs bytes ` +
        `${off}..${off + bytes}: a weight shard is missing or truncated`);
    }
    const chunk = Uint8Array.prototype.slice.call(data, off, off + bytes).buffer as ArrayBuffer;
    off += bytes;
    const q = w.quantization;
    let t: ConstTensor;
    if (q?.dtype === 'float16') {
      t = { dtype: 'float32', shape: [...w.shape], data: Float32Array.from(new Uint16Array(chunk), float16BitsToFloat32), precision: 'float16' };
    } else if (q?.dtype === 'uint8' || q?.dtype === 'uint16') {
      const raw = q.dtype === 'uint8' ? new Uint8Array(chunk) : new Uint16Array(chunk);
      const scale = q.scale ?? 1;
      const min = q.min ?? 0;
      const vals = Float32Array.from(raw, (v) => v * scale + min);
      const precision: StoragePrecision = q.dtype;
      t = w.dtype === 'int32' ? { dtype: 'int32', shape: [...w.shape], data: Int32Array.from(vals, Math.round) }
        : { dtype: 'float32', shape: [...w.shape], data: vals, precision };
    } else if (w.dtype === 'float32') {
      t = { dtype: 'float32', shape: [...w.shape], data: new Float32Array(chunk) };
    } else if (w.dtype === 'int32') {
      t = { dtype: 'int32', shape: [...w.shape], data: new Int32Array(chunk) };
    } else {
      t = { dtype: 'bool', shape: [...w.shape], data: new Uint8Array(chunk) };
    }
    out.set(w.name, t);
  }
  if (off !== data.byteLength) {
    throw new ConversionError(`weight shards hold ${data.byteLength} bytes but the manifest describes ${off}: ` +
      'the shards do not belong to this model.json');
  }
  return out;
}

function shapeAttr(a: Record<string, unknown> | undefined): number[] {
  const shape = a?.shape as { dim?: { size?: string | number }[]; unknownRank?: boolean } | undefined;
  return (shape?.dim ?? []).map((d) => Number(d.size ?? -1));
}

/** The value name of a TF tensor name: output 0 is the node's own name (`input_1:0` -> `input_1`), others keep `:k`. */
function tensorNode(name: string): string {
  return name.endsWith(':0') ? name.slice(0, -2) : name;
}

/** Builds the IR graph of a TF.js GraphModel. `weightData` is the shards' bytes in manifest order. */
export function importTfjs(modelJson: TfjsModelJson, weightData: Uint8Array, options: TfjsImportOptions = {}): Graph {
  checkGraphModelJson(modelJson);
  // Reported here, as the ONNX importer does: a node TF.js cannot run would make a model that only fails when run.
  const known = new Set([...TFJS_GRAPH_OPS, ...FUSED_OPS, ...(options.customOps ?? [])]);
  const unsupported: UnsupportedNode[] = [];
  modelJson.modelTopology.node.forEach((n, index) => {
    if (!known.has(n.op)) unsupported.push({ index, name: n.name, op: n.op, reason: 'tfjs-converter 4.22 cannot run this op' });
  });
  if (unsupported.length > 0) throw unsupportedOpsError('TF.js', unsupported);
  const entries = (modelJson.weightsManifest ?? []).flatMap((g) => g.weights);
  const weights = decodeWeights(entries, weightData);
  const g = new Graph();
  const nodes: IRNode[] = [];
  // Signature keys by tensor name (`input_1:0` -> `input_1`): the written model keeps them.
  const inputKeys = new Map(Object.entries(modelJson.signature?.inputs ?? {}).map(([key, t]) => [tensorNode(t.name), key]));
  for (const n of modelJson.modelTopology.node) {
    if (n.op === 'Placeholder') {
      const dtype = DTYPES[String(n.attr?.dtype?.type)] ?? 'float32';
      const signatureKey = inputKeys.get(n.name);
      g.inputs.push({ name: n.name, dtype, shape: shapeAttr(n.attr?.shape), ...(signatureKey != null ? { signatureKey } : {}) });
    } else if (n.op === 'Const') {
      const w = weights.get(n.name);
      if (w == null) throw new ConversionError(`Const node '${n.name}' has no entry in the weights manifest`);
      g.constants.set(n.name, w);
    } else {
      const attrs: Record<string, AttrValue> = {};
      for (const [k, v] of Object.entries(n.attr ?? {})) {
        try {
          attrs[k] = decodeTfAttr(v);
        } catch (e) { // a string attribute that is not base64 (atob's DOMException names nothing)
          throw new ConversionError(`model.json node '${n.name}' (${n.op}): attribute ${k} ${JSON.stringify(v)?.slice(0, 60)} ` +
            `cannot be decoded (${(e as Error).message})`);
        }
      }
      // Control inputs (^name) only order side effects, which inference graphs do not have.
      nodes.push({ name: n.name, op: n.op, inputs: (n.input ?? []).filter((i) => !i.startsWith('^')).map(tensorNode), attrs });
    }
  }
  g.nodes = nodes;
  const metadata = modelJson.userDefinedMetadata;
  if (metadata != null && typeof metadata === 'object' && !Array.isArray(metadata)) g.metadata = structuredClone(metadata);
  const sigOut = modelJson.signature?.outputs;
  if (sigOut && Object.keys(sigOut).length > 0) {
    g.outputs = Object.values(sigOut).map((o) => tensorNode(o.name));
    g.outputKeys = Object.keys(sigOut);
  } else {
    const used = new Set(nodes.flatMap((n) => n.inputs.map((v) => v.split(':')[0])));
    g.outputs = nodes.filter((n) => !used.has(n.name)).map((n) => n.name);
  }
  try {
    g.topoSort();
    g.validate();
  } catch (e) {
    throw new ConversionError(`model.json graph is inconsistent: ${(e as Error).message}`);
  }
  return g;
}
