/**
 * The converter pipeline as a library (browser-safe; file IO lives in src/cli/convert.ts and src/cli/files.ts):
 * import (ONNX bytes or TF.js model.json + shard bytes) -> IR -> fusion -> GraphModel files + report.
 *
 *   const result = convertModel({ format: 'onnx', bytes });
 *   const model = await tf.loadGraphModel(tf.io.fromMemory(toModelArtifacts(result.files)));
 */
import { foldConstants } from './const_fold.js';
import { ConversionError } from './errors.js';
import { fuseBlocks, type FusedBlock } from './fusion.js';
import { checkQuantize, type GraphModelFiles, writeGraphModel } from './graphmodel_writer.js';
import type { Graph } from './ir.js';
import { type InputLayout, lowerOnnx } from './layout.js';
import { decodeOnnx, type ExternalDataReader } from './onnx_import.js';
import { importTfjs, type TfjsModelJson } from './tfjs_import.js';
import { buildReport, type ConversionReport } from './report.js';

/** A model to convert: an ONNX file's bytes, or a parsed model.json and its shards' bytes joined in manifest order. */
export type ConvertSource =
  | { format: 'onnx'; bytes: Uint8Array | ArrayBuffer; externalData?: ExternalDataReader }
  | { format: 'tfjs'; modelJson: TfjsModelJson; weightData: Uint8Array | ArrayBuffer };

export interface ConvertOptions {
  /** Rewrite residual blocks, standalone LayerNorms and patch convs to fused ops (default true). */
  fuse?: boolean;
  /** Input layout of the converted model (ONNX only; default 'nchw', the ONNX model's own). */
  inputLayout?: InputLayout;
  /** TF.js only: ops the app registers with tfjs-converter's `registerOp` (others TF.js cannot run are errors). */
  customOps?: Iterable<string>;
  /** Quantize float weights (default: keep the source precision). */
  quantize?: 'float16' | 'uint8';
  /** Progress callback (the CLI prints these). */
  onProgress?: (message: string) => void;
}

export interface ConvertResult {
  /** The graph as imported (stock ops, NHWC). */
  unfused: Graph;
  /** The graph written (fused unless `fuse: false`). */
  graph: Graph;
  blocks: FusedBlock[];
  files: GraphModelFiles;
  report: ConversionReport;
}

/** Bytes as a Uint8Array (an ArrayBuffer, e.g. from fetch().arrayBuffer(), or any typed array view); else null. */
function asBytes(v: unknown): Uint8Array | null {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return null;
}

type CheckedSource = { format: 'onnx'; bytes: Uint8Array; externalData?: ExternalDataReader } |
  { format: 'tfjs'; modelJson: TfjsModelJson; weightData: Uint8Array };

/** The source checked (a clear error for a wrong shape, before any parsing blames the file) and its bytes as Uint8Array. */
function checkedSource(source: unknown): CheckedSource {
  const s = source as Record<string, unknown> | null;
  if (s == null || typeof s !== 'object' || (s.format !== 'onnx' && s.format !== 'tfjs')) {
    throw new ConversionError(`source must be { format: 'onnx', bytes } or { format: 'tfjs', modelJson, weightData }, ` +
      `got ${s == null || typeof s !== 'object' ? String(s) : `format ${JSON.stringify(s.format)}`}`);
  }
  const key = s.format === 'onnx' ? 'bytes' : 'weightData';
  const bytes = asBytes(s[key]);
  if (bytes == null) {
    throw new ConversionError(`source.${key} must be a Uint8Array or an ArrayBuffer (the ${s.format === 'onnx' ?
      "ONNX file's bytes" : "weight shards' bytes, joined in manifest order"}), got ${s[key] === undefined ? 'nothing' : typeof s[key]}`);
  }
  if (s.format === 'onnx' && s.externalData != null && typeof s.externalData !== 'function') {
    throw new ConversionError(`source.externalData must be a function (location, offset, length) => bytes, got ${typeof s.externalData}`);
  }
  return s.format === 'onnx' ? { format: 'onnx', bytes, externalData: s.externalData as ExternalDataReader | undefined } :
    { format: 'tfjs', modelJson: s.modelJson as TfjsModelJson, weightData: bytes };
}

const INPUT_LAYOUTS: readonly InputLayout[] = ['nchw', 'nhwc'];

/** Throws a ConversionError naming the first bad option (a misspelt value would otherwise fall back silently). */
function checkOptions(o: ConvertOptions): void {
  if (o.inputLayout != null && !INPUT_LAYOUTS.includes(o.inputLayout)) {
    throw new ConversionError(`inputLayout must be 'nchw' or 'nhwc' (or left out), got ${JSON.stringify(o.inputLayout)}`);
  }
  if (o.fuse != null && typeof o.fuse !== 'boolean') throw new ConversionError(`fuse must be a boolean, got ${JSON.stringify(o.fuse)}`);
  checkQuantize(o.quantize);
}

/** Imports a model into the IR (no fusion). */
export function importModel(source: ConvertSource, options: Pick<ConvertOptions, 'inputLayout' | 'customOps'> | null = {}): Graph {
  const o = options ?? {};
  checkOptions(o);
  return importChecked(checkedSource(source), o);
}

/** importModel past its checks (convertModel has made them). */
function importChecked(source: CheckedSource, options: Pick<ConvertOptions, 'inputLayout' | 'customOps'>): Graph {
  if (source.format === 'onnx') {
    return lowerOnnx(decodeOnnx(source.bytes, { externalData: source.externalData }), { inputLayout: options.inputLayout });
  }
  // Rejected whatever the value (nhwc too): accepting it would suggest it did something.
  if (options.inputLayout != null) {
    throw new ConversionError(`--input-layout ${options.inputLayout} applies to ONNX models only; a TF.js GraphModel ` +
      'keeps its own (NHWC) input');
  }
  return importTfjs(source.modelJson, source.weightData, { customOps: options.customOps });
}

export function convertModel(source: ConvertSource, options: ConvertOptions | null = {}): ConvertResult {
  options = options ?? {};
  checkOptions(options);
  const checked = checkedSource(source);
  const progress = options.onProgress ?? (() => {});
  progress(`importing ${checked.format === 'onnx' ? 'ONNX model' : 'TF.js GraphModel'}`);
  const unfused = importChecked(checked, options);
  foldConstants(unfused);
  let graph = unfused;
  let blocks: FusedBlock[] = [];
  let layerNorms = 0;
  let patchConvs = { total: 0, preNorm: 0, postNorm: 0 };
  let classifierHeads = 0;
  if (options.fuse !== false) {
    progress('fusing residual blocks, LayerNorms, patch convs and classifier heads');
    const fused = fuseBlocks(unfused);
    graph = fused.graph;
    blocks = fused.blocks;
    layerNorms = fused.layerNorms.length;
    patchConvs = { total: fused.patchConvs.length, preNorm: fused.patchConvs.filter((p) => p.preNorm != null).length,
      postNorm: fused.patchConvs.filter((p) => p.postNorm != null).length };
    classifierHeads = fused.classifierHeads.length;
  }
  // In memory only: the CLI verifies these files before it writes them to disk.
  progress('encoding the GraphModel (model.json + weight shards)');
  const report = buildReport({ source: checked.format, unfused, graph, blocks, layerNorms, patchConvs,
    classifierHeads, fuse: options.fuse !== false, quantize: options.quantize });
  const files = writeGraphModel(graph, { quantize: options.quantize, metadata: { tfjsBlockFusion: report.summary } });
  return { unfused, graph, blocks, files, report };
}
