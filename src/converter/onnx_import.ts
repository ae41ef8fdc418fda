/**
 * ONNX model decoding (protobufjs with the ONNX schema, onnx_schema.ts) into a plain `OnnxModel`, then
 * lowering to the IR through the layout pass (layout.ts). Browser-safe: takes bytes, never paths.
 */
import protobuf from 'protobufjs';
import { ConversionError } from './errors.js';
import type { ConstTensor } from './ir.js';
import { float16BitsToFloat32 } from './float16.js';
import { ONNX_PROTO_JSON } from './onnx_schema.js';

export type OnnxAttr = number | number[] | string | string[] | ConstTensor;

export interface OnnxNode {
  /** Position in the graph's node list (0-based), for messages. */
  index: number;
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, OnnxAttr>;
}

export interface OnnxValueInfo {
  name: string;
  elemType: number;
  /** -1 for a symbolic / unknown dimension; null when the rank is unknown. */
  shape: number[] | null;
}

export interface OnnxModel {
  opset: number;
  producer: string;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  initializers: Map<string, ConstTensor>;
  nodes: OnnxNode[];
  valueInfo: Map<string, OnnxValueInfo>;
}

export const ONNX_FLOAT = 1;
const ONNX_TYPES: Record<number, string> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool', 10: 'float16',
  11: 'float64',
};
/** Bytes per element in raw_data, for the element types decodeTensor reads. */
const RAW_ELEMENT_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8 };

let modelType: protobuf.Type | null = null;
function onnxModelType(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON(ONNX_PROTO_JSON as unknown as protobuf.INamespace).lookupType('onnx.ModelProto');
  return modelType;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type Msg = any;

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v != null && typeof (v as { toNumber?: () => number }).toNumber === 'function') return (v as { toNumber(): number }).toNumber();
  return Number(v);
}

function bytesToString(b: Uint8Array | string): string {
  return typeof b === 'string' ? b : new TextDecoder().decode(b);
}

/** Copies raw little-endian bytes into an aligned buffer. */
function aligned(raw: Uint8Array): ArrayBuffer {
  // Uint8Array's slice (Node's Buffer#slice shares memory) gives an own, 0-offset buffer.
  return Uint8Array.prototype.slice.call(raw).buffer as ArrayBuffer;
}

const INT32_MAX = 2147483647;
const clampInt = (v: number): number => Math.max(-INT32_MAX - 1, Math.min(INT32_MAX, v));

/**
 * Reads a tensor's bytes from an ONNX external data file: `length` bytes at `offset` (to the end of the file when
 * `length` is undefined) of the file `location` names, relative to the .onnx file. Throws a ConversionError naming
 * the file when it cannot.
 */
export type ExternalDataReader = (location: string, offset: number, length: number | undefined) => Uint8Array;

export interface DecodeOnnxOptions {
  /** Where tensors stored outside the .onnx file are read (the CLI reads the files next to it); without it they are an error. */
  externalData?: ExternalDataReader;
}

/** A tensor's external data (location, offset, length entries) read through `reader`. */
function readExternalData(t: Msg, what: string, reader: ExternalDataReader | undefined): Uint8Array {
  const entries = new Map<string, string>((t.externalData ?? []).map((e: Msg) => [e.key, e.value]));
  const location = entries.get('location');
  if (reader == null || location == null) {
    // Embedding only works below protobuf's 2 GB limit for one file: past it onnx.save and torch refuse.
    throw new ConversionError(`${what}: tensor data is stored in an external file${location ? ` ('${location}')` : ''}: ` +
      'give convertModel a reader for it ({ format: \'onnx\', bytes, externalData }, e.g. inMemoryExternalData(files); ' +
      'the CLI reads the files next to the .onnx), or re-export with the weights embedded ' +
      "(torch.onnx.export(..., external_data=False)), possible while the model is under 2 GB (protobuf's limit for one file)");
  }
  const position = (key: 'offset' | 'length'): number | undefined => {
    const v = entries.get(key);
    if (v == null) return undefined;
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
      throw new ConversionError(`${what}: external data ${key} '${v}' is not a byte position (corrupt file?)`);
    }
    return Number(v);
  };
  return reader(location, position('offset') ?? 0, position('length'));
}

/** TensorProto -> ConstTensor (float types as float32, integer types as int32, bool as bool). */
export function decodeTensor(t: Msg, what: string, externalData?: ExternalDataReader): ConstTensor {
  const dims: number[] = (t.dims ?? []).map(num);
  const size = dims.reduce((a, b) => a * b, 1);
  const type = t.dataType ?? 0;
  const external = t.dataLocation === 1 || (t.externalData ?? []).length > 0;
  const raw: Uint8Array | undefined = external ? readExternalData(t, what, externalData)
    : t.rawData != null && t.rawData.length > 0 ? t.rawData : undefined;
  const check = (n: number): void => {
    if (n !== size) {
      throw new ConversionError(`${what}: tensor has ${n} values for shape [${dims.join(', ')}] (truncated or corrupt file?)`);
    }
  };
  // Before any typed-array view: a length that is no multiple of the element size would throw a bare RangeError.
  const elementBytes = RAW_ELEMENT_BYTES[type];
  if (raw != null && elementBytes != null && raw.length !== size * elementBytes) {
    throw new ConversionError(`${what}: ${external ? 'its external data' : 'raw_data'} holds ${raw.length} bytes, but ` +
      `${size} ${ONNX_TYPES[type]} values for shape [${dims.join(', ')}] take ${size * elementBytes} (truncated or corrupt file?)`);
  }
  switch (type) {
    case 1: { // FLOAT
      const data = raw ? new Float32Array(aligned(raw)) : Float32Array.from(t.floatData ?? []);
      check(data.length);
      return { dtype: 'float32', shape: dims, data };
    }
    case 11: { // DOUBLE
      const data = raw ? Float32Array.from(new Float64Array(aligned(raw))) : Float32Array.from(t.doubleData ?? []);
      check(data.length);
      return { dtype: 'float32', shape: dims, data };
    }
    case 10: { // FLOAT16
      const bits = raw ? new Uint16Array(aligned(raw)) : Uint16Array.from(t.int32Data ?? []);
      check(bits.length);
      return { dtype: 'float32', shape: dims, data: Float32Array.from(bits, float16BitsToFloat32), precision: 'float16' };
    }
    case 7: { // INT64
      const data = raw ? Int32Array.from(new BigInt64Array(aligned(raw)), (v) => clampInt(Number(v)))
        : Int32Array.from((t.int64Data ?? []).map((v: unknown) => clampInt(num(v))));
      check(data.length);
      return { dtype: 'int32', shape: dims, data };
    }
    case 6: case 5: case 3: case 2: case 4: { // INT32, INT16, INT8, UINT8, UINT16
      let data: Int32Array;
      if (raw) {
        const buf = aligned(raw);
        const view = type === 6 ? new Int32Array(buf) : type === 5 ? new Int16Array(buf) : type === 3 ? new Int8Array(buf)
          : type === 2 ? new Uint8Array(buf) : new Uint16Array(buf);
        data = Int32Array.from(view);
      } else {
        data = Int32Array.from(t.int32Data ?? []);
      }
      check(data.length);
      return { dtype: 'int32', shape: dims, data };
    }
    case 9: { // BOOL
      const data = raw ? new Uint8Array(aligned(raw)) : Uint8Array.from(t.int32Data ?? []);
      check(data.length);
      return { dtype: 'bool', shape: dims, data };
    }
    default:
      throw new ConversionError(`${what}: tensor element type ${ONNX_TYPES[type] ?? type} is not supported`);
  }
}

function decodeAttr(a: Msg, what: string, externalData: ExternalDataReader | undefined): OnnxAttr {
  switch (a.type) {
    case 1: return a.f ?? 0;
    case 2: return num(a.i ?? 0);
    case 3: return bytesToString(a.s ?? '');
    case 4: return decodeTensor(a.t, `${what} attribute ${a.name}`, externalData);
    case 6: return [...(a.floats ?? [])];
    case 7: return (a.ints ?? []).map(num);
    case 8: return (a.strings ?? []).map(bytesToString);
    default:
      // Old exporters left `type` unset: infer it from the field present.
      if (a.t != null) return decodeTensor(a.t, `${what} attribute ${a.name}`, externalData);
      if (a.ints?.length) return a.ints.map(num);
      if (a.floats?.length) return [...a.floats];
      if (a.s != null && a.s.length > 0) return bytesToString(a.s);
      if (a.i != null) return num(a.i);
      if (a.f != null) return a.f;
      throw new ConversionError(`${what}: attribute ${a.name} has an unsupported type ${a.type}`);
  }
}

function valueInfo(v: Msg): OnnxValueInfo {
  const tt = v.type?.tensorType;
  const dims = tt?.shape?.dim as Msg[] | undefined;
  return {
    name: v.name,
    elemType: tt?.elemType ?? 0,
    shape: tt?.shape == null ? null : (dims ?? []).map((d) => (d.dimValue != null && num(d.dimValue) > 0 ? num(d.dimValue) : -1)),
  };
}

/** Decodes an ONNX file. Throws ConversionError on anything that is not a well-formed ONNX model. */
export function decodeOnnx(bytes: Uint8Array, options: DecodeOnnxOptions = {}): OnnxModel {
  if (bytes.byteLength === 0) throw new ConversionError('the ONNX file is empty');
  let m: Msg;
  try {
    const type = onnxModelType();
    m = type.toObject(type.decode(bytes), { longs: Number, defaults: false, arrays: true });
  } catch (e) {
    throw new ConversionError(`not a valid ONNX model: protobuf decoding failed (${(e as Error).message}); ` +
      'the file is truncated, corrupt, or not ONNX');
  }
  const g = m.graph;
  if (g == null || (g.node ?? []).length === 0) {
    throw new ConversionError('not a valid ONNX model: it has no graph or an empty graph (truncated or not ONNX?)');
  }
  const opsets = (m.opsetImport ?? []) as Msg[];
  const main = opsets.find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx');
  if (main == null) throw new ConversionError('not a valid ONNX model: no opset_import for the default domain (truncated?)');
  const initializers = new Map<string, ConstTensor>();
  for (const t of g.initializer ?? []) {
    initializers.set(t.name, decodeTensor(t, `initializer '${t.name}'`, options.externalData));
  }
  const nodes: OnnxNode[] = (g.node as Msg[]).map((n, index) => {
    const name = n.name || `${n.opType}_${index}`;
    const attrs: Record<string, OnnxAttr> = {};
    for (const a of n.attribute ?? []) {
      attrs[a.name] = decodeAttr(a, `node #${index} '${name}' (${n.opType})`, options.externalData);
    }
    return { index, name, opType: n.opType ?? '', domain: n.domain ?? '', inputs: [...(n.input ?? [])],
      outputs: [...(n.output ?? [])], attrs };
  });
  // Every value read must come from somewhere: a cheap guard against truncation that decodes cleanly.
  const defined = new Set<string>(['', ...initializers.keys(), ...(g.input ?? []).map((v: Msg) => v.name)]);
  for (const n of nodes) {
    for (const v of n.inputs) {
      if (!defined.has(v)) {
        throw new ConversionError(`not a valid ONNX model: node #${n.index} '${n.name}' (${n.opType}) reads '${v}', ` +
          'which nothing defines (corrupt file?)');
      }
    }
    for (const v of n.outputs) defined.add(v);
  }
  const outputs = (g.output ?? []).map(valueInfo);
  for (const o of outputs) if (!defined.has(o.name)) throw new ConversionError(`not a valid ONNX model: output '${o.name}' is never computed`);
  const infos = new Map<string, OnnxValueInfo>();
  for (const v of g.valueInfo ?? []) infos.set(v.name, valueInfo(v));
  return {
    opset: num(main.version),
    producer: `${m.producerName ?? ''} ${m.producerVersion ?? ''}`.trim(),
    inputs: (g.input ?? []).map(valueInfo).filter((v: OnnxValueInfo) => !initializers.has(v.name)),
    outputs,
    initializers,
    nodes,
    valueInfo: infos,
  };
}
