/**
 * The converter pipeline as a library (browser-safe; file IO lives in src/cli/convert.ts):
 * import (ONNX bytes or TF.js model.json + shard bytes) -> IR -> fusion -> GraphModel files + report.
 *
 *   const result = convertModel({ format: 'onnx', bytes });
 *   const model = await tf.loadGraphModel(tf.io.fromMemory(toModelArtifacts(result.files)));
 */
import { foldConstants } from './const_fold.js';
import { ConversionError } from './errors.js';
import { fuseBlocks, type FusedBlock } from './fusion.js';
import { type GraphModelFiles, writeGraphModel } from './graphmodel_writer.js';
import type { Graph } from './ir.js';
import { type InputLayout, lowerOnnx } from './layout.js';
import { decodeOnnx } from './onnx_import.js';
import { importTfjs, type TfjsModelJson } from './tfjs_import.js';
import { buildReport, type ConversionReport } from './report.js';

export type ConvertSource =
  | { format: 'onnx'; bytes: Uint8Array }
  | { format: 'tfjs'; modelJson: TfjsModelJson; weightData: Uint8Array };

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

/** Imports a model into the IR (no fusion). */
export function importModel(source: ConvertSource, options: Pick<ConvertOptions, 'inputLayout' | 'customOps'> = {}): Graph {
  if (source.format === 'onnx') return lowerOnnx(decodeOnnx(source.bytes), { inputLayout: options.inputLayout });
  // Rejected whatever the value (nhwc too): accepting it would suggest it did something.
  if (options.inputLayout != null) {
    throw new ConversionError(`--input-layout ${options.inputLayout} applies to ONNX models only; a TF.js GraphModel ` +
      'keeps its own (NHWC) input');
  }
  return importTfjs(source.modelJson, source.weightData, { customOps: options.customOps });
}

export function convertModel(source: ConvertSource, options: ConvertOptions = {}): ConvertResult {
  const progress = options.onProgress ?? (() => {});
  progress(`importing ${source.format === 'onnx' ? 'ONNX model' : 'TF.js GraphModel'}`);
  const unfused = importModel(source, options);
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
  const report = buildReport({ source: source.format, unfused, graph, blocks, layerNorms, patchConvs,
    classifierHeads, fuse: options.fuse !== false, quantize: options.quantize });
  const files = writeGraphModel(graph, { quantize: options.quantize, metadata: { tfjsBlockFusion: report.summary } });
  return { unfused, graph, blocks, files, report };
}
