/**
 * ConvNeXt and ConvFirstNet with seeded random weights, as TF.js GraphModels written by the converter's
 * GraphModel writer (so a built model saves, loads and runs exactly like a converted one).
 *
 *   const model = await loadBuiltModel('convnext', 'tiny', { fused: true, seed: 1 });
 *   const logits = model.predict(images);             // images: [N, 224, 224, 3] float32
 */
import { type GraphModel, loadGraphModel } from '@tensorflow/tfjs-converter';
import { io } from '@tensorflow/tfjs-core';
import { type GraphModelFiles, toModelArtifacts, writeGraphModel } from '../src/converter/graphmodel_writer.js';
import type { Graph } from '../src/converter/ir.js';
import { type BuildOptions, buildModelGraph, countGraphParams, type ModelConfig, resolveConfig } from './network.js';

export { buildModelGraph, buildNetwork, countGraphParams, INPUT_NAME, MAX_CLASSES, MAX_DIM, MAX_INPUT_SIZE, resolveConfig } from './network.js';
export type { BuildOptions, ModelConfig } from './network.js';
export { BLOCK_DESIGNS, MACRO, MODEL_FAMILIES, PUBLISHED_CONVNEXT_PARAMS_M, STAGES, VARIANTS } from './variants.js';
export type { BlockDesign, ModelFamily, StageTable, Variant } from './variants.js';

export interface BuiltModel {
  config: ModelConfig;
  graph: Graph;
  /** model.json and weight shards, ready to write or to load from memory. */
  files: GraphModelFiles;
  params: number;
}

/** Builds the graph and serialises it with the converter's writer; metadata records how it was made. */
export function buildModel(family: string, variant: string, opts: BuildOptions | null = {}): BuiltModel {
  const options = opts ?? {};
  const config = resolveConfig(family, variant, options);
  const graph = buildModelGraph(family, variant, options);
  const params = countGraphParams(graph);
  options.onProgress?.(`encoding the GraphModel (${(params / 1e6).toFixed(2)}M parameters)`);
  const files = writeGraphModel(graph, {
    metadata: { tfjsBlockFusion: { model: config.family, variant: config.variant, fused: config.fused,
      seed: config.seed, inputSize: config.inputSize, classes: config.classes, params } },
  });
  return { config, graph, files, params };
}

/**
 * A built model loaded as a tf.GraphModel from memory, ready to run: it imports the package root, which registers the
 * fused ops and their kernels (without it, predict failed with tfjs's "Unknown op 'FusedPatchConv'").
 */
export async function loadBuiltModel(family: string, variant: string, options: BuildOptions | null = {}): Promise<GraphModel> {
  const files = buildModel(family, variant, options).files;
  await import('../src/index.js');
  return loadGraphModel(io.fromMemory(toModelArtifacts(files)));
}
