/** Builds small ONNX models in tests (protobufjs with the converter's schema), to unit-test the importer. */
import protobuf from 'protobufjs';
import { ONNX_PROTO_JSON } from '../../src/converter/onnx_schema.js';

const root = protobuf.Root.fromJSON(ONNX_PROTO_JSON as unknown as protobuf.INamespace);
const ModelProto = root.lookupType('onnx.ModelProto');

export type AttrInput = number | number[] | string | { tensor: TensorInput };
export interface TensorInput {
  dims: number[]; float?: Float32Array | number[]; int64?: number[]; external?: string;
  /** raw_data as given, of any ONNX element type (to write lengths a real exporter would not). */
  raw?: { dataType: number; bytes: Uint8Array };
}
export interface NodeInput { op: string; inputs: string[]; outputs: string[]; attrs?: Record<string, AttrInput>; name?: string; domain?: string }

function tensor(name: string, t: TensorInput): Record<string, unknown> {
  if (t.external) return { name, dims: t.dims, dataType: 1, dataLocation: 1, externalData: [{ key: 'location', value: t.external }] };
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
