/** Builds small ONNX models in tests (protobufjs with the converter's schema), to unit-test the importer. */
import protobuf from 'protobufjs';
import { ONNX_PROTO_JSON } from '../../src/converter/onnx_schema.js';

const root = protobuf.Root.fromJSON(ONNX_PROTO_JSON as unknown as protobuf.INamespace);
const ModelProto = root.lookupType('onnx.ModelProto');

export type AttrInput = number | number[] | string | { tensor: TensorInput };
export interface TensorInput {
  dims: number[]; float?: Float32Array | number[]; int64?: number[];
  /** Stored in an external data file: its location, or its location and byte range. */
  external?: string | ExternalEntry;
  /** raw_data as given, of any ONNX element type (to write lengths a real exporter would not). */
  raw?: { dataType: number; bytes: Uint8Array };
}
export interface NodeInput { op: string; inputs: string[]; outputs: string[]; attrs?: Record<string, AttrInput>; name?: string; domain?: string }

export interface ExternalEntry { location: string; offset?: number | string; length?: number | string }

/** ONNX's external_data key-value entries for a byte range of a data file. */
function externalEntries(e: ExternalEntry): { key: string; value: string }[] {
  return Object.entries(e).filter(([, v]) => v != null).map(([key, v]) => ({ key, value: String(v) }));
}

function tensor(name: string, t: TensorInput): Record<string, unknown> {
  if (t.external) {
    const entry = typeof t.external === 'string' ? { location: t.external } : t.external;
    return { name, dims: t.dims, dataType: 1, dataLocation: 1, externalData: externalEntries(entry) };
  }
  if (t.int64) return { name, dims: t.dims, dataType: 7, int64Data: t.int64 };
  if (t.raw) return { name, dims: t.dims, dataType: t.raw.dataType, rawData: t.raw.bytes };
  const f = Float32Array.from(t.float ?? []);
  return { name, dims: t.dims, dataType: 1, rawData: new Uint8Array(f.buffer) };
}

function attribute(name: string, v: AttrInput): Record<string, unknown> {
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: 2, i: v } : { name, type: 1, f: v };
  if (typeof v === 'string') return { name, type: 3, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: 7, ints: v };
  return { name, type: 4, t: tensor('', v.tensor) };
}

const valueInfo = (name: string, shape: (number | string)[]): Record<string, unknown> => ({
  name, type: { tensorType: { elemType: 1, shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
});

export function encodeOnnx(m: {
  opset?: number; nodes: NodeInput[]; initializers?: Record<string, TensorInput>;
  inputs: Record<string, (number | string)[]>; outputs: Record<string, (number | string)[]>;
}): Uint8Array {
  const msg = ModelProto.fromObject({
    irVersion: 8,
    opsetImport: [{ domain: '', version: m.opset ?? 17 }],
    producerName: 'test',
    graph: {
      name: 'g',
      node: m.nodes.map((n, i) => ({ name: n.name ?? `${n.op}_${i}`, opType: n.op, domain: n.domain ?? '', input: n.inputs, output: n.outputs,
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)) })),
      initializer: Object.entries(m.initializers ?? {}).map(([k, t]) => tensor(k, t)),
      input: Object.entries(m.inputs).map(([k, s]) => valueInfo(k, s)),
      output: Object.entries(m.outputs).map(([k, s]) => valueInfo(k, s)),
    },
  });
  return ModelProto.encode(msg).finish();
}

/**
 * An ONNX model with every raw_data initializer moved into one external data file at 16-byte aligned offsets (what
 * onnx's convert_model_to_external_data and torch's dynamo exporter write): the model's bytes and the data file's.
 */
export function externalizeInitializers(bytes: Uint8Array, location: string): { onnx: Uint8Array; data: Uint8Array } {
  const model = ModelProto.toObject(ModelProto.decode(bytes)) as { graph: { initializer: Record<string, unknown>[] } };
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const t of model.graph.initializer) {
    const raw = t.rawData as Uint8Array | undefined;
    if (raw == null || raw.length === 0) continue;
    const offset = Math.ceil(size / 16) * 16;
    parts.push(new Uint8Array(offset - size), raw);
    size = offset + raw.length;
    t.externalData = externalEntries({ location, offset, length: raw.length });
    t.dataLocation = 1;
    delete t.rawData;
  }
  const data = new Uint8Array(size);
  let at = 0;
  for (const p of parts) { data.set(p, at); at += p.length; }
  return { onnx: ModelProto.encode(ModelProto.fromObject(model)).finish(), data };
}

/** The model with value `name` (produced by one of its nodes) added as a further graph output of shape `shape`. */
export function withExtraOutput(bytes: Uint8Array, name: string, shape: (number | string)[]): Uint8Array {
  const model = ModelProto.toObject(ModelProto.decode(bytes)) as { graph: { output: Record<string, unknown>[] } };
  model.graph.output.push(valueInfo(name, shape));
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/** The name of the first input of the first `op` node (e.g. the features a classifier's Gemm reads). */
export function firstInputOf(bytes: Uint8Array, op: string): string {
  const model = ModelProto.toObject(ModelProto.decode(bytes)) as { graph: { node: { opType: string; input: string[] }[] } };
  const node = model.graph.node.find((n) => n.opType === op);
  if (node == null) throw new Error(`no ${op} node`);
  return node.input[0];
}
