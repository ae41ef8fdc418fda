/**
 * Serializes an IR graph as a standard TF.js GraphModel (`format: graph-model`): model.json plus weight
 * shards of at most 4 MB. Float weights stay in the precision the source stored them in (ConstTensor
 * `precision`) unless `quantize` asks for float16 or uint8. No IO here: the CLI writes the files, a web
 * app or test can load the result directly with `tf.io.fromMemory(toModelArtifacts(result))`.
 */
import type { io } from '@tensorflow/tfjs-core';
import { float32ToFloat16Bits } from './float16.js';
import { type AttrValue, type ConstTensor, type DType, Graph, type StoragePrecision, valueIndex, valueNode } from './ir.js';
import { ConversionError } from './errors.js';

export const SHARD_BYTES = 4 * 1024 * 1024;

export interface WriteOptions {
  /** Quantize every float32 constant (default: keep each constant's source precision). */
  quantize?: 'float16' | 'uint8';
  /** Maximum bytes per shard (default 4 MB). */
  shardBytes?: number;
  /** Shard file name prefix (default 'group1'). */
  shardPrefix?: string;
  /** Extra `userDefinedMetadata` for model.json. */
  metadata?: Record<string, unknown>;
}

export interface GraphModelFiles {
  /** The parsed model.json content. */
  modelJson: ModelJson;
  /** Shard files, in weightsManifest order. */
  shards: { path: string; data: Uint8Array }[];
}

export interface ModelJson {
  format: 'graph-model';
  generatedBy: string;
  convertedBy: string;
  modelTopology: { node: TfNodeDef[]; library: Record<string, unknown>; versions: Record<string, unknown> };
  signature: { inputs: Record<string, TfTensorInfo>; outputs: Record<string, TfTensorInfo> };
  weightsManifest: { paths: string[]; weights: io.WeightsManifestEntry[] }[];
  userDefinedMetadata?: Record<string, unknown>;
}

interface TfNodeDef { name: string; op: string; input?: string[]; attr?: Record<string, unknown> }
interface TfTensorInfo { name: string; dtype: string; tensorShape: { dim?: { size: string }[] } }

const TF_DTYPE: Record<DType, string> = { float32: 'DT_FLOAT', int32: 'DT_INT32', bool: 'DT_BOOL' };

function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

function tfShape(shape: readonly number[]): { dim?: { size: string }[] } {
  return shape.length === 0 ? {} : { dim: shape.map((d) => ({ size: String(d) })) };
}

/** IR attribute -> TF AttrValue JSON. */
export function encodeAttr(a: AttrValue): unknown {
  if ('i' in a) return { i: String(a.i) };
  if ('f' in a) return { f: a.f };
  if ('s' in a) return { s: base64(a.s) };
  if ('b' in a) return { b: a.b };
  if ('type' in a) return { type: TF_DTYPE[a.type] };
  if ('shape' in a) return { shape: tfShape(a.shape) };
  if ('raw' in a) return a.raw;
  const list: Record<string, unknown> = {};
  if (a.list.i) list.i = a.list.i.map(String);
  if (a.list.f) list.f = [...a.list.f];
  if (a.list.s) list.s = a.list.s.map(base64);
  if (a.list.type) list.type = a.list.type.map((t) => TF_DTYPE[t]);
  return { list };
}

/** TF tensor reference for a value name: `n` -> `n`, `n:2` -> `n:2` (TF's own convention). */
function tfRef(value: string): string {
  return valueIndex(value) === 0 ? valueNode(value) : value;
}

/** Bytes and manifest entry of one constant in the chosen precision. */
function encodeWeight(name: string, t: ConstTensor, precision: StoragePrecision):
  { entry: io.WeightsManifestEntry; bytes: Uint8Array } {
  const shape = [...t.shape];
  if (t.dtype !== 'float32' || precision === 'float32') {
    const data = t.dtype === 'bool' ? Uint8Array.from(t.data) : t.data;
    return {
      entry: { name, shape, dtype: t.dtype },
      bytes: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)),
    };
  }
  const values = t.data as Float32Array;
  if (precision === 'float16') {
    const half = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) half[i] = float32ToFloat16Bits(values[i]);
    return {
      entry: { name, shape, dtype: 'float32', quantization: { dtype: 'float16' } },
      bytes: new Uint8Array(half.buffer),
    };
  }
  // uint8 / uint16 affine quantization as tensorflowjs_converter's quantize_weights does it: the range nudged so 0
  // is exact when it covers 0, else the data's own range, and a constant tensor stored exactly (all zeros, min =
  // the value). Re-quantizing weights a quantized source stored so gives them back on their own grid.
  const levels = precision === 'uint8' ? 255 : 65535;
  const [lo, hi] = sampleMinMax(values);
  const q = precision === 'uint8' ? new Uint8Array(values.length) : new Uint16Array(values.length);
  let min = lo;
  let scale = 1;
  if (hi > lo) {
    scale = (hi - lo) / levels;
    let max = hi;
    if (lo <= 0 && hi >= 0) {
      min = -Math.round(-lo / scale) * scale;
      max = levels * scale + min;
    }
    for (let i = 0; i < values.length; i++) q[i] = Math.round((Math.min(max, Math.max(min, values[i])) - min) / scale);
  }
  return {
    entry: { name, shape, dtype: 'float32', quantization: { dtype: precision, min, scale } },
    bytes: new Uint8Array(q.buffer),
  };
}

function sampleMinMax(values: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
  return values.length === 0 ? [0, 0] : [lo, hi];
}

/** The weight precisions `quantize` may ask for (anything else would be written as uint8 by mistake). */
export const QUANTIZE_MODES = ['float16', 'uint8'] as const;

/** Throws a ConversionError unless `quantize` is absent or one of QUANTIZE_MODES. */
export function checkQuantize(quantize: unknown): void {
  if (quantize != null && !(QUANTIZE_MODES as readonly unknown[]).includes(quantize)) {
    throw new ConversionError(`quantize must be ${QUANTIZE_MODES.map((m) => `'${m}'`).join(' or ')} (or left out), ` +
      `got ${JSON.stringify(quantize)}`);
  }
}

/** Builds model.json and the weight shards for `graph` (validated first). */
export function writeGraphModel(graph: Graph, options: WriteOptions | null = {}): GraphModelFiles {
  const o = options ?? {};
  graph.validate();
  checkQuantize(o.quantize);
  const shardBytes = o.shardBytes ?? SHARD_BYTES;
  // Shards hold whole 4-byte values: another size would split one, and tfjs-converter reads each shard as is.
  if (!Number.isInteger(shardBytes) || shardBytes < 4 || shardBytes % 4 !== 0) {
    throw new ConversionError(`writeGraphModel: shardBytes must be a positive multiple of 4, got ${shardBytes}`);
  }
  const nodes: TfNodeDef[] = [];
  for (const input of graph.inputs) {
    nodes.push({ name: input.name, op: 'Placeholder', attr: {
      dtype: { type: TF_DTYPE[input.dtype] }, shape: { shape: tfShape(input.shape) } } });
  }
  const weights: io.WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  for (const [name, t] of graph.constants) {
    nodes.push({ name, op: 'Const', attr: {
      value: { tensor: { dtype: TF_DTYPE[t.dtype], tensorShape: tfShape(t.shape) } },
      dtype: { type: TF_DTYPE[t.dtype] } } });
    const { entry, bytes } = encodeWeight(name, t, o.quantize ?? t.precision ?? 'float32');
    weights.push(entry);
    chunks.push(bytes);
  }
  for (const n of graph.nodes) {
    const attrs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(n.attrs)) attrs[k] = encodeAttr(v);
    nodes.push({ name: n.name, op: n.op, input: n.inputs.map(tfRef), attr: attrs });
  }
  const total = chunks.reduce((s, c) => s + c.byteLength, 0);
  const all = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) { all.set(c, off); off += c.byteLength; }
  const count = Math.max(1, Math.ceil(total / shardBytes));
  const prefix = o.shardPrefix ?? 'group1';
  const shards = Array.from({ length: count }, (_, i) => ({
    path: `${prefix}-shard${i + 1}of${count}.bin`,
    data: all.subarray(i * shardBytes, Math.min(total, (i + 1) * shardBytes)),
  }));
  const inputInfo = (name: string, dtype: DType, shape: number[]): TfTensorInfo =>
    ({ name: `${name}:0`, dtype: TF_DTYPE[dtype], tensorShape: tfShape(shape) });
  const signature: ModelJson['signature'] = { inputs: {}, outputs: {} };
  // Keyed as the source model was (a TF.js input's `input_1`, `output_0`), else by node name.
  for (const i of graph.inputs) signature.inputs[i.signatureKey ?? i.name] = inputInfo(i.name, i.dtype, i.shape);
  graph.outputs.forEach((o, k) => {
    signature.outputs[graph.outputKeys?.[k] ?? valueNode(o)] =
      { name: `${valueNode(o)}:${valueIndex(o)}`, dtype: 'DT_FLOAT', tensorShape: {} };
  });
  const metadata = graph.metadata != null || o.metadata != null ? { ...graph.metadata, ...o.metadata } : undefined;
  const modelJson: ModelJson = {
    format: 'graph-model',
    generatedBy: 'tfjs-block-fusion',
    convertedBy: 'tfjs-block-fusion converter',
    modelTopology: { node: nodes, library: {}, versions: { producer: 1 } },
    signature,
    weightsManifest: [{ paths: shards.map((s) => s.path), weights }],
    ...(metadata ? { userDefinedMetadata: metadata } : {}),
  };
  return { modelJson, shards };
}

/** The files as ModelArtifacts for `tf.loadGraphModel(tf.io.fromMemory(artifacts))`. */
export function toModelArtifacts(files: GraphModelFiles): io.ModelArtifacts {
  const total = files.shards.reduce((s, c) => s + c.data.byteLength, 0);
  const buf = new Uint8Array(total);
  let off = 0;
  for (const s of files.shards) { buf.set(s.data, off); off += s.data.byteLength; }
  return {
    modelTopology: files.modelJson.modelTopology,
    format: files.modelJson.format,
    generatedBy: files.modelJson.generatedBy,
    convertedBy: files.modelJson.convertedBy,
    signature: files.modelJson.signature,
    userDefinedMetadata: files.modelJson.userDefinedMetadata as io.ModelArtifacts['userDefinedMetadata'],
    weightSpecs: files.modelJson.weightsManifest.flatMap((g) => g.weights),
    weightData: buf.buffer,
  };
}
