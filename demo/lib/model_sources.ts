/**
 * The models a comparison runs, as GraphModel files in memory: ConvNeXt built with stock ops (the
 * "original"), that graph put through the converter (the "converted" one, fused blocks), ConvFirstNet built
 * fused, or a user's ONNX / TF.js model converted in the page (unfused original vs fused).
 */
import { convertModel, type ConvertSource, type GraphInput, type GraphModelFiles, inMemoryExternalData, type TfjsModelJson,
  writeGraphModel } from '../../src/converter/index.js';
import { buildModel } from '../../models/index.js';
import { FUSED_OPS } from '../../src/converter/fused_ops.js';
import { checkGraphModelJson } from '../../src/converter/tfjs_import.js';
import { yieldToPage } from './next_task.js';

export type ModelKey = 'convnext-original' | 'convnext-converted' | 'convfirst' | 'own-original' | 'own-converted';

export const MODEL_LABELS: Record<ModelKey, string> = {
  'convnext-original': 'ConvNeXt (original)',
  'convnext-converted': 'ConvNeXt (converted, fused)',
  convfirst: 'ConvFirstNet (fused)',
  'own-original': 'Your model (original)',
  'own-converted': 'Your model (converted, fused)',
};

/** The converted row's label when the converter fused nothing (both rows are then the same stock-op graph). */
const OWN_UNFUSED_LABEL = 'Your model (converted: nothing fused)';
/** The converted row's label when the dropped model was fused already (both rows are then the same fused graph). */
const OWN_ALREADY_FUSED_LABEL = 'Your model (converted: already fused)';

/** The models the others are timed and diffed against (their speedup is 1, their diff 0). */
export function isOriginalModel(key: ModelKey): boolean {
  return key === 'convnext-original' || key === 'own-original';
}

export interface OwnModelInput { name: string; files: File[] }

export interface ModelFiles {
  key: ModelKey;
  label: string;
  files: GraphModelFiles;
  params: number;
  /** The graph's (first) input: its shape (-1 marks a dynamic dim) and the layout the user feeds. */
  input: GraphInput;
  /** Nodes of the package's fused ops in the graph (0: stock ops only). */
  fusedNodes: number;
}

export interface ModelSourceConfig {
  models: ModelKey[];
  variant: string;
  inputSize: number;
  seed: number;
  ownModel?: OwnModelInput;
  /** Stops the building between steps (see ComparisonConfig.signal). */
  signal?: AbortSignal;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.byteLength; }
  return out;
}

function countFusedNodes(files: GraphModelFiles): number {
  const nodes = (files.modelJson.modelTopology as { node?: { op: string }[] }).node ?? [];
  return nodes.filter((n) => FUSED_OPS.includes(n.op)).length;
}

function countParams(files: GraphModelFiles): number {
  let n = 0;
  for (const group of files.modelJson.weightsManifest) {
    for (const w of group.weights) if (w.dtype === 'float32' && w.shape.length > 0) n += w.shape.reduce((a, b) => a * b, 1);
  }
  return n;
}

/**
 * The model file among dropped files: an .onnx file, else model.json, else another .json. A GraphModel folder may
 * hold other JSON (metadata.json, in file-picker order before model.json), which is not the model.
 */
export function mainModelFile<F extends { name: string }>(files: readonly F[]): F | undefined {
  return files.find((f) => f.name.endsWith('.onnx')) ?? files.find((f) => f.name === 'model.json') ??
    files.find((f) => f.name.endsWith('.json'));
}

/** Reads a dropped ONNX file, or a model.json with its shards, into a converter source. */
async function readOwnModel(own: OwnModelInput): Promise<ConvertSource> {
  const main = mainModelFile(own.files);
  if (main == null) throw new Error('expected an .onnx file or a model.json');
  if (main.name.endsWith('.onnx')) {
    const onnx = main;
    // The other dropped files may hold its external data (model.onnx.data, torch's dynamo exporter's default).
    const others = own.files.filter((f) => f !== onnx);
    const data = new Map(await Promise.all(others.map(async (f) => [f.name, new Uint8Array(await f.arrayBuffer())] as const)));
    return { format: 'onnx', bytes: new Uint8Array(await onnx.arrayBuffer()), externalData: inMemoryExternalData(data, onnx.name) };
  }
  const jsonFile = main;
  let modelJson: unknown;
  try {
    modelJson = JSON.parse(await jsonFile.text());
  } catch (e) {
    throw new Error(`${jsonFile.name} is not valid JSON: ${(e as Error).message}`);
  }
  // Named by the dropped file's name (a package.json is not a GraphModel), before its manifest is read.
  checkGraphModelJson(modelJson, jsonFile.name);
  const manifest = modelJson.weightsManifest ?? [];
  const byName = new Map(own.files.map((f) => [f.name, f]));
  const parts: Uint8Array[] = [];
  for (const path of manifest.flatMap((g) => g.paths)) {
    const base = path.split('/').pop()!;
    const f = byName.get(base);
    if (f == null) throw new Error(`${jsonFile.name} lists weight file '${base}': add it to the dropped files`);
    parts.push(new Uint8Array(await f.arrayBuffer()));
  }
  return { format: 'tfjs', modelJson, weightData: concat(parts) };
}


/** A graph without inputs: an empty shape (the comparison then feeds a scalar). */
const NO_INPUT: GraphInput = { name: '', dtype: 'float32', shape: [] };

export async function prepareModelFiles(config: ModelSourceConfig, onDetail: (detail: string) => void,
  notes: string[]): Promise<ModelFiles[]> {
  const out: ModelFiles[] = [];
  const add = (key: ModelKey, files: GraphModelFiles, input: GraphInput): ModelFiles => {
    const entry = { key, label: MODEL_LABELS[key], files, params: countParams(files), input, fusedNodes: countFusedNodes(files) };
    out.push(entry);
    return entry;
  };

  if (config.ownModel != null) {
    onDetail(`reading ${config.ownModel.name}`);
    const source = await readOwnModel(config.ownModel);
    await yieldToPage(config.signal);
    const result = convertModel(source, { onProgress: (m) => onDetail(`${config.ownModel!.name}: ${m}`) });
    const input = result.graph.inputs[0] ?? NO_INPUT;
    const original = add('own-original', writeGraphModel(result.unfused), input);
    const converted = add('own-converted', result.files, input);
    if (converted.fusedNodes === original.fusedNodes) {
      converted.label = original.fusedNodes === 0 ? OWN_UNFUSED_LABEL : OWN_ALREADY_FUSED_LABEL;
    }
    const { blocks, alreadyFused } = result.report;
    notes.push(`converted ${config.ownModel.name}: ${result.report.summary}`);
    // A converted model converted again has no blocks left to find, yet is fused: say which.
    if (Object.keys(alreadyFused).length > 0) {
      notes.push(`already fused (${Object.entries(alreadyFused).map(([k, v]) => `${v} ${k}`).join(', ')}): both runs are the same graph`);
    } else if (blocks.total === 0) {
      notes.push('no ConvNeXt or ConvFirst block was found: both runs are unfused');
    }
    return out;
  }

  const opts = { seed: config.seed, inputSize: config.inputSize };
  const wantConvNeXt = config.models.some((m) => m.startsWith('convnext'));
  if (wantConvNeXt) {
    onDetail(`ConvNeXt-${config.variant}: building the stock-op graph`);
    await yieldToPage(config.signal);
    const original = buildModel('convnext', config.variant, { ...opts, fused: false });
    const input = original.graph.inputs[0];
    if (config.models.includes('convnext-original')) add('convnext-original', original.files, input);
    if (config.models.includes('convnext-converted')) {
      onDetail(`ConvNeXt-${config.variant}: converting (fusing residual blocks)`);
      await yieldToPage(config.signal);
      const converted = convertModel({ format: 'tfjs', modelJson: original.files.modelJson as unknown as TfjsModelJson,
        weightData: concat(original.files.shards.map((s) => s.data)) }, { onProgress: (m) => onDetail(`converter: ${m}`) });
      add('convnext-converted', converted.files, input);
      notes.push(`converter fused ${converted.blocks.length} blocks of ConvNeXt-${config.variant}`);
    }
  }
  if (config.models.includes('convfirst')) {
    onDetail(`ConvFirstNet-${config.variant}: building`);
    await yieldToPage(config.signal);
    const cf = buildModel('convfirst', config.variant, { ...opts, fused: true });
    add('convfirst', cf.files, cf.graph.inputs[0]);
  }
  return out;
}
