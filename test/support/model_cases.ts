/** Shared by the node and browser model tests: small builds of both families and output comparison. */
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { toModelArtifacts } from '../../src/converter/graphmodel_writer.js';
import { buildModel, type BuildOptions, type ModelFamily } from '../../models/index.js';

/** Small enough for software renderers: the atto widths at 32x32 (stages 8, 4, 2, 1 pixels), batch 2. */
export const SMALL = { variant: 'atto', inputSize: 32, batch: 2 } as const;

export async function loadSmall(family: ModelFamily, options: BuildOptions) {
  const built = buildModel(family, SMALL.variant, { inputSize: SMALL.inputSize, ...options });
  return { built, model: await loadGraphModel(tf.io.fromMemory(toModelArtifacts(built.files))) };
}

export function seededImages(seed: number, batch: number = SMALL.batch, size: number = SMALL.inputSize): tf.Tensor4D {
  return tf.randomNormal([batch, size, size, 3], 0, 1, 'float32', seed) as tf.Tensor4D;
}

/**
 * Fused and unfused logits agree to float32 accuracy: both compute the same function, so they differ only
 * by rounding in a different summation order (depth ~ thousands of terms through ~12 blocks); the bound
 * is relative to the logits' scale. Returns a message on failure, null on success.
 */
export function compareLogits(fused: Float32Array, unfused: Float32Array, relTol = 1e-4): string | null {
  if (fused.length !== unfused.length) return `length ${fused.length} vs ${unfused.length}`;
  let scale = 0;
  for (const v of unfused) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < fused.length; i++) {
    const d = Math.abs(fused[i] - unfused[i]);
    if (!(d <= worst)) { worst = d; at = i; } // NaN lands here too
  }
  if (!(scale > 0) || !Number.isFinite(scale)) return `unfused logits have scale ${scale}`;
  return worst <= relTol * scale ? null
    : `max |fused - unfused| = ${worst} at ${at} (fused ${fused[at]}, unfused ${unfused[at]}) > ${relTol} x ${scale}`;
}
