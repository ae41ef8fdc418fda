/**
 * The shared fixtures (../shared/fixtures: real ONNX and TF.js exports with their framework's output) as
 * converter test cases. File access is injected (fs in Node, fetch in karma) so both use this module.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { type ConvertOptions, type ConvertResult, type ConvertSource, convertModel } from '../../src/converter/convert.js';
import { toModelArtifacts } from '../../src/converter/graphmodel_writer.js';
import { decodeOnnx } from '../../src/converter/onnx_import.js';
import type { TfjsModelJson } from '../../src/converter/tfjs_import.js';

export type ReadBytes = (path: string) => Promise<Uint8Array>;

export interface FixtureCase {
  name: string;
  format: 'onnx' | 'tfjs';
  /** Path of the model (ONNX file or model.json) relative to the fixtures root. */
  model: string;
  input: string;
  output: string;
  inputShape: number[];
  /** Weights stored as float16 (looser tolerance). */
  float16: boolean;
  /** Blocks the converter should not fuse (MBConv): expected fused count is 0. */
  unfusable: boolean;
  /** Block count the fixture's own metadata states (manifest note / Keras meta depths), if any. */
  declaredBlocks?: number;
}

/**
 * Relative L2 error tolerances (see docs/converter.md). float32: ~7x the largest measured error (1.4e-6), and below
 * what a wrong LayerNorm epsilon (1e-5 for 1e-6) gives (1.9e-5 - 5.4e-5), which the earlier 1e-4 let through.
 */
export const TOLERANCE = { float32: 1e-5, float16: 2e-3 } as const;

const json = async (read: ReadBytes, path: string): Promise<any> => JSON.parse(new TextDecoder().decode(await read(path)));

export async function listFixtures(read: ReadBytes): Promise<FixtureCase[]> {
  const cases: FixtureCase[] = [];
  const manifest = await json(read, 'onnx/manifest.json');
  for (const m of manifest.models) {
    const depths = /depths ([\d,]+)/.exec(m.note ?? '')?.[1];
    cases.push({
      name: m.name, format: 'onnx', model: `onnx/${m.onnx}`, input: `onnx/${m.input}`, output: `onnx/${m.output}`,
      inputShape: m.input_shape, float16: false, unfusable: /MBConv/i.test(m.note ?? ''),
      declaredBlocks: depths ? depths.split(',').reduce((s: number, d: string) => s + Number(d), 0) : undefined,
    });
  }
  for (const name of ['keras_convnext_tiny16_b1', 'keras_convnext_tiny16_dyn', 'keras_convnext_tiny16_b1_f16']) {
    const base = name.replace(/_f16$/, '');
    const meta = await json(read, `tfjs/${base}.meta.json`);
    cases.push({
      name, format: 'tfjs', model: `tfjs/${name}/model.json`, input: `tfjs/${base}.input.bin`, output: `tfjs/${base}.output.bin`,
      inputShape: meta.input_shape, float16: name.endsWith('_f16'), unfusable: false,
      declaredBlocks: (meta.depths as number[]).reduce((s, d) => s + d, 0),
    });
  }
  return cases;
}

export async function readSource(read: ReadBytes, c: FixtureCase): Promise<ConvertSource> {
  if (c.format === 'onnx') return { format: 'onnx', bytes: await read(c.model) };
  const modelJson = await json(read, c.model) as TfjsModelJson;
  const dir = c.model.slice(0, c.model.lastIndexOf('/') + 1);
  const shards = await Promise.all((modelJson.weightsManifest ?? []).flatMap((g) => g.paths).map((p) => read(dir + p)));
  const weightData = new Uint8Array(shards.reduce((s, b) => s + b.byteLength, 0));
  let off = 0;
  for (const s of shards) { weightData.set(s, off); off += s.byteLength; }
  return { format: 'tfjs', modelJson, weightData };
}

/**
 * Residual blocks counted from the source graph itself: Add nodes whose two inputs are both computed
 * (neither an initializer / Const nor a Constant node's output).
 */
export function countResidualAdds(source: ConvertSource): number {
  if (source.format === 'onnx') {
    const m = decodeOnnx(source.bytes as Uint8Array);
    const constant = new Set([...m.initializers.keys(), ...m.nodes.filter((n) => n.opType === 'Constant').flatMap((n) => n.outputs)]);
    return m.nodes.filter((n) => n.opType === 'Add' && n.inputs.every((i) => !constant.has(i))).length;
  }
  const nodes = source.modelJson.modelTopology?.node ?? [];
  const consts = new Set(nodes.filter((n) => n.op === 'Const').map((n) => n.name));
  return nodes.filter((n) => (n.op === 'AddV2' || n.op === 'Add') &&
    (n.input ?? []).every((i) => !consts.has(i.replace(/:0$/, '')))).length;
}

export function floats(bytes: Uint8Array): Float32Array {
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

export function relL2(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) throw new Error(`output has ${got.length} values, oracle ${want.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) { num += (got[i] - want[i]) ** 2; den += want[i] ** 2; }
  return Math.sqrt(num / den);
}

export interface FixtureRun {
  result: ConvertResult;
  relL2: number;
  fusedNodes: number;
  expectedBlocks: number;
  residualAdds: number;
  /** FusedLayerNorm nodes in the converted graph. */
  layerNormNodes: number;
  /** FusedPatchConv nodes in the converted graph, and those with a LayerNorm folded in. */
  patchConvNodes: number;
  patchConvPreNorms: number;
  patchConvPostNorms: number;
  /** FusedClassifierHead nodes (pool + LayerNorm + dense) in the converted graph. */
  classifierHeadNodes: number;
  /** LayerNorm composites in the unfused graph (one Rsqrt or Sqrt each). */
  layerNormComposites: number;
}

/** Converts a fixture, loads it with tf.loadGraphModel (in-memory IO), runs the fixture input, compares. */
export async function runFixture(read: ReadBytes, c: FixtureCase, options: ConvertOptions = {},
  transformInput?: (x: tf.Tensor) => tf.Tensor): Promise<FixtureRun> {
  const source = await readSource(read, c);
  const residualAdds = countResidualAdds(source);
  const result = convertModel(source, options);
  const model = await loadGraphModel(tf.io.fromMemory(toModelArtifacts(result.files)));
  const x0 = tf.tensor(floats(await read(c.input)), c.inputShape);
  const x = transformInput ? transformInput(x0) : x0;
  const before = tf.memory().numTensors;
  const y = model.execute(x) as tf.Tensor;
  const got = await y.data();
  y.dispose();
  const leaked = tf.memory().numTensors - before;
  if (x !== x0) x.dispose();
  x0.dispose();
  model.dispose();
  if (leaked !== 0) throw new Error(`${c.name}: running the model leaked ${leaked} tensors`);
  const fusedNodes = result.graph.nodes.filter((n) => n.op.startsWith('FusedConv')).length;
  const unfusedOps = result.unfused.opCounts();
  return {
    result, relL2: relL2(got, floats(await read(c.output))), fusedNodes,
    layerNormNodes: result.graph.opCounts().FusedLayerNorm ?? 0,
    patchConvNodes: result.graph.opCounts().FusedPatchConv ?? 0,
    classifierHeadNodes: result.graph.opCounts().FusedClassifierHead ?? 0,
    patchConvPreNorms: result.graph.nodes.filter((n) => n.op === 'FusedPatchConv' && n.attrs.pre_norm != null &&
      'b' in n.attrs.pre_norm && n.attrs.pre_norm.b).length,
    patchConvPostNorms: result.graph.nodes.filter((n) => n.op === 'FusedPatchConv' && n.attrs.post_norm != null &&
      'b' in n.attrs.post_norm && n.attrs.post_norm.b).length,
    layerNormComposites: (unfusedOps.Rsqrt ?? 0) + (unfusedOps.Sqrt ?? 0),
    expectedBlocks: options.fuse === false || c.unfusable ? 0 : residualAdds, residualAdds,
  };
}

/**
 * Loads converted files the way a web app does, `tf.loadGraphModel(url)` through the HTTP IO handler, with a
 * fetch that serves the files from memory (so weight paths and shard order are resolved by tfjs itself).
 */
export async function loadViaHttp(files: ConvertResult['files'], base = 'https://example.test/models/m/') {
  const served = new Map<string, Uint8Array>([[`${base}model.json`, new TextEncoder().encode(JSON.stringify(files.modelJson))]]);
  for (const s of files.shards) served.set(base + s.path, s.data);
  const requested: string[] = [];
  const fetchFunc = async (input: RequestInfo | URL): Promise<Response> => {
    const url = String(input instanceof Request ? input.url : input);
    requested.push(url);
    const body = served.get(url);
    return body ? new Response(body.slice(), { status: 200 }) : new Response('not found', { status: 404 });
  };
  const model = await loadGraphModel(`${base}model.json`, { fetchFunc });
  return { model, requested };
}
