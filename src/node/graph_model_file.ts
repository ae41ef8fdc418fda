/**
 * Loading a TF.js GraphModel from a model.json on disk (tfjs-node's file:// handler without tfjs-node).
 * Node-only.
 */
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { type GraphModel, loadGraphModel } from '@tensorflow/tfjs-converter';
import { fileNextToModel } from './model_folder_file.js';

/** An IOHandler reading model.json and its weight shards from the local file system. */
export function fileModelHandler(modelJsonPath: string): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      let text: string;
      try {
        text = await readFile(modelJsonPath, 'utf8');
      } catch (e) {
        throw new Error(`cannot read ${modelJsonPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(text) as tf.io.ModelJSON;
      } catch (e) {
        throw new Error(`${modelJsonPath} is not JSON: ${(e as Error).message}`);
      }
      if (json.modelTopology == null) throw new Error(`${modelJsonPath} has no modelTopology: not a TF.js model.json`);
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) {
            const b = await readFile(fileNextToModel(modelJsonPath, p, 'weight shard'));
            buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
          }
        }
        return [specs, tf.io.concatenateArrayBuffers(buffers)];
      });
    },
  };
}

export function loadGraphModelFromFile(modelJsonPath: string): Promise<GraphModel> {
  return loadGraphModel(fileModelHandler(modelJsonPath));
}
