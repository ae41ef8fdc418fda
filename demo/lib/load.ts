/** Loads in-memory GraphModel files on the active backend (this uploads the weights). */
import { type GraphModel, loadGraphModel } from '@tensorflow/tfjs-converter';
import { io } from '@tensorflow/tfjs-core';
import { toModelArtifacts } from '../../src/converter/index.js';
import type { ModelFiles } from './model_sources.js';

export function loadFromFiles(f: ModelFiles): Promise<GraphModel> {
  return loadGraphModel(io.fromMemory(toModelArtifacts(f.files)));
}
