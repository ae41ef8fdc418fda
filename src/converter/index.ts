/**
 * `tfjs-block-fusion/converter`: the graph converter as a library (browser-safe, no file IO).
 * See docs/converter.md.
 */
export { convertModel, importModel } from './convert.js';
export type { ConvertOptions, ConvertResult, ConvertSource } from './convert.js';
export { foldConstants } from './const_fold.js';
export { ConversionError } from './errors.js';
export { fuseBlocks } from './fusion.js';
export type { FusedBlock, FusionOptions, FusionResult } from './fusion.js';
export { fuseClassifierHeadsInPlace } from './classifier_head_fusion.js';
export type { FusedClassifierHeadNode } from './classifier_head_fusion.js';
export { fuseLayerNormsInPlace } from './layer_norm_fusion.js';
export type { FusedLayerNormNode } from './layer_norm_fusion.js';
export { fusePatchConvsInPlace } from './patch_conv_fusion.js';
export type { FusedPatchConvNode } from './patch_conv_fusion.js';
export { SHARD_BYTES, toModelArtifacts, writeGraphModel } from './graphmodel_writer.js';
export type { GraphModelFiles, ModelJson, WriteOptions } from './graphmodel_writer.js';
export { attr, concreteInputShape, Graph, tensorSize, valueIndex, valueNode } from './ir.js';
export type { AttrValue, ConstTensor, DType, GraphInput, IRNode, StoragePrecision } from './ir.js';
export { GraphBuilder } from './ir_builder.js';
export type { ConvOptions, Padding } from './ir_builder.js';
export { lowerOnnx } from './layout.js';
export type { InputLayout } from './layout.js';
export { decodeOnnx } from './onnx_import.js';
export { inMemoryExternalData } from './external_data.js';
export type { DecodeOnnxOptions, ExternalDataReader } from './onnx_import.js';
export { registerFusedGraphOps } from './register_ops.js';
export { buildReport, seededInput, verifyConversion } from './report.js';
export type { ConversionReport, VerifyOptions, VerifyResult } from './report.js';
export { importTfjs } from './tfjs_import.js';
export type { TfjsImportOptions, TfjsModelJson } from './tfjs_import.js';
