/**
 * Page entry: the demo's countGpuPasses (demo/lib/backends.ts) against the draw calls the WebGL context really
 * receives for one inference of each built-in model (atto, 32 px).
 */
import '../../src/index.js';
import * as tf from '@tensorflow/tfjs-core';
import { activateBackend, countGpuPasses } from '../../demo/lib/backends.js';
import { type ModelKey, prepareModelFiles } from '../../demo/lib/model_sources.js';
import { loadFromFiles } from '../../demo/lib/load.js';

let draws = 0;
const proto = WebGL2RenderingContext.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
for (const m of ['drawArrays', 'drawElements']) {
  const original = proto[m];
  proto[m] = function (this: unknown, ...a: unknown[]) { draws++; return original.apply(this, a); };
}

(globalThis as unknown as { __run: (a: { models: ModelKey[] }) => Promise<unknown> }).__run = async ({ models }) => {
  await activateBackend('webgl');
  const files = await prepareModelFiles({ models, variant: 'atto', inputSize: 32, seed: 1 }, () => {}, []);
  const out: { model: string; counted: number; draws: number }[] = [];
  for (const f of files) {
    const model = await loadFromFiles(f);
    const input = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 1);
    const run = async () => { const y = model.predict(input) as tf.Tensor; await y.data(); y.dispose(); };
    await run();  // shader compilation and weight folding
    const before = draws;
    const counted = await countGpuPasses(run);
    out.push({ model: f.key, counted, draws: draws - before });
    input.dispose();
    model.dispose();
  }
  return out;
};
