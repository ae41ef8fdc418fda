// Runs both fused block ops on the cpu backend (and on webgpu through Dawn when the optional `webgpu` package
// and a Vulkan driver are there) and checks them against the reference composition computed on cpu.
// `node examples/ops.mjs [cpu|webgpu ...]` (default both) after `npm run build`, or from an app that installed the package.
import * as lib from 'tfjs-block-fusion';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

/** Dawn as navigator.gpu, then tfjs's webgpu backend (it registers itself only if navigator.gpu exists). */
async function webgpuInNode() {
  try {
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true });
    await import('@tensorflow/tfjs-backend-webgpu');
    return await tf.setBackend('webgpu');
  } catch (e) {
    if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
    return false;
  }
}

await tf.setBackend('cpu');
const [n, h, w, c, d] = [1, 14, 14, 32, 128];
const x = tf.randomNormal([n, h, w, c]);
const convnextWeights = {
  dwFilter: tf.randomNormal([7, 7, c, 1], 0, 1 / 7), dwBias: tf.zeros([c]), lnGamma: tf.ones([c]), lnBeta: tf.zeros([c]),
  w1: tf.randomNormal([c, d], 0, 1 / Math.sqrt(c)), b1: tf.zeros([d]),
  w2: tf.randomNormal([d, c], 0, 1 / Math.sqrt(d)), b2: tf.zeros([c]), layerScale: tf.fill([c], 0.5),
};
const convfirstWeights = {
  filter: tf.randomNormal([3, 3, 8, c], 0, 1 / 8), bias: tf.zeros([c]),
  w1: tf.randomNormal([c, d], 0, 1 / Math.sqrt(c)), b1: tf.zeros([d]),
  w2: tf.randomNormal([d, c], 0, 1 / Math.sqrt(d)), b2: tf.zeros([c]),
};
// The reference compositions with the ops' defaults (epsilon 1e-6, exact GELU; SiLU with the residual).
const expected = {
  convnextBlock: await lib.convnextBlockReference({ x, ...convnextWeights }, { epsilon: 1e-6, activation: 'gelu' }).data(),
  convfirstBlock: await lib.convfirstBlockReference({ x, ...convfirstWeights }, { activation: 'silu', residual: true }).data(),
};

async function check(name, y) {
  const got = await y.data();
  let maxError = 0;
  for (let i = 0; i < got.length; i++) maxError = Math.max(maxError, Math.abs(got[i] - expected[name][i]));
  console.log(`${name} on ${tf.getBackend()}: output shape [${y.shape}], mean ${(await tf.mean(y).data())[0].toFixed(4)}, ` +
    `max |fused - reference| ${maxError.toExponential(2)}`);
  if (!(maxError < 1e-4)) throw new Error(`${name} on ${tf.getBackend()} differs from the reference by ${maxError}`);
}

const backends = process.argv.length > 2 ? process.argv.slice(2) : ['cpu', 'webgpu'];
for (const backend of backends) {
  if (!['cpu', 'webgpu'].includes(backend)) throw new Error(`unknown backend '${backend}': cpu or webgpu`);
  if (backend === 'webgpu' && !(await webgpuInNode())) {
    console.log('webgpu: skipped (needs `npm install webgpu` and a Vulkan driver)');
    continue;
  }
  await check('convnextBlock', lib.convnextBlock(x, convnextWeights));
  await check('convfirstBlock', lib.convfirstBlock(x, convfirstWeights, { activation: 'silu' }));
}
