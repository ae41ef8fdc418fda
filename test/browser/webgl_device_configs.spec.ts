/**
 * The fused WebGL blocks under the tfjs flags of devices that a desktop SwiftShader run does not exercise: half-float
 * textures (phones and older GPUs without float32 render targets), fewer draw buffers, unpacked textures
 * (WEBGL_PACK false). Each config gets a fresh webgl backend (tfjs reads some flags only when it creates one). With
 * half floats the float32 tolerance does not apply: the fused error is held to the stock ops' error under the same
 * flags, both against the float64 oracle. Every run also checks that tensors and GPU bytes go back to where they were.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import { convfirstBlock, convfirstBlockReference, convnextBlock, convnextBlockReference } from '../../src/index.js';
import { type BlockCase, caseName, compare, prepareCase } from '../support/block_cases.js';
import { withWebGLFlags } from '../support/browser_backends.js';
import { freshSeed, Rng } from '../support/random.js';
import { recordPasses } from '../support/webgl_passes.js';

const seed = freshSeed();

const CONVNEXT: BlockCase = { kind: 'convnext', n: 2, h: 9, w: 7, c: 24, d: 96, k: 7, act: 'gelu', layerScale: true };
const CONVFIRST: BlockCase = { kind: 'convfirst', n: 1, h: 11, w: 6, c: 24, d: 96, k: 3, g: 8, act: 'silu', residual: true };
/** Wide enough that the LayerNorm fold's weight sums matter (the error grows with C). */
const WIDE_CONVNEXT: BlockCase = { kind: 'convnext', n: 1, h: 5, w: 6, c: 384, d: 1536, k: 3, act: 'gelu', layerScale: false };
const FUSED_PASSES = ['SpatialConvProgram', 'MultiTargetPass(8)', 'MultiTargetPass(8)'];

type Weights = Record<string, Float32Array>;
/** `programs`: what the fused op ran, uploads (EncodeMatrixPackedProgram) left out. */
interface Run { label: string; fused: Float32Array; stock: Float32Array; expected: Float64Array; depth: number;
  programs: string[] }

function memory(): { numTensors: number; numBytesInGPU: number } {
  return tf.memory() as unknown as { numTensors: number; numBytesInGPU: number };
}

/**
 * Case t through the fused op (with the programs it ran) and through the stock composition on the active backend;
 * `input` makes x the way a model would hand it over (default: as uploaded). Tensors and GPU bytes must be back to
 * their starting values once everything is disposed (the weights' prepared copies included).
 */
async function runFusedAndStock(t: BlockCase, rng: Rng, editWeights?: (w: Weights) => void,
  input: (x: tf.Tensor4D) => tf.Tensor4D = (x) => x): Promise<Run> {
  const p = prepareCase(t, rng, undefined, editWeights);
  const before = memory();
  const all: Record<string, tf.Tensor> = {};
  for (const [name, data] of Object.entries(p.inputs)) all[name] = tf.tensor(data, p.shapes[name], 'float32');
  const { x: uploaded, ...weights } = all;
  const x = input(uploaded as tf.Tensor4D);
  const fusedRun = recordPasses(() => t.kind === 'convnext' ?
    convnextBlock(x, weights as never, { activation: t.act }) :
    convfirstBlock(x, weights as never, { activation: t.act, residual: t.residual }));
  const stockY = tf.tidy(() => t.kind === 'convnext' ?
    convnextBlockReference({ x, ...weights } as never, { epsilon: 1e-6, activation: t.act }) :
    convfirstBlockReference({ x, ...weights } as never, { activation: t.act, residual: t.residual }));
  const fused = await fusedRun.result.data() as Float32Array;
  const stock = await stockY.data() as Float32Array;
  tf.dispose([fusedRun.result, stockY, x, ...Object.values(all)]);
  const label = `${caseName(t)} (seed ${rng.seed})`;
  expect(memory().numTensors).withContext(`${label}: tensors`).toBe(before.numTensors);
  expect(memory().numBytesInGPU).withContext(`${label}: GPU bytes`).toBe(before.numBytesInGPU);
  const programs = fusedRun.programs.filter((name) => name !== 'EncodeMatrixPackedProgram');
  return { label, fused, stock, expected: p.expected, depth: p.depth, programs };
}

function maxAbsError(got: Float32Array, want: Float64Array): number {
  let max = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    if (!(e <= max)) max = Number.isNaN(e) ? Infinity : e;
  }
  return max;
}

/**
 * The fused error at most `factor` times the stock ops' error under the same flags (or `floor`, where stock is near
 * exact); with `halfFloats`, stock's error must also show that half-float textures were in effect.
 */
function expectNearStock(r: Run, { factor, floor = 0, halfFloats = false }: { factor: number; floor?: number; halfFloats?: boolean }): void {
  const fusedError = maxAbsError(r.fused, r.expected);
  const stockError = maxAbsError(r.stock, r.expected);
  if (halfFloats) expect(stockError).withContext(`${r.label}: stock error (half floats in effect)`).toBeGreaterThan(1e-5);
  expect(stockError).withContext(`${r.label}: stock error`).toBeLessThan(Infinity);
  expect(fusedError).withContext(`${r.label}: fused error vs stock ${stockError}`)
    .toBeLessThanOrEqual(Math.max(factor * stockError, floor));
}

/** Runs `f` while the context reports at most `count` draw buffers, as on GPUs with fewer render targets. */
async function withMaxDrawBuffers<T>(count: number, f: () => Promise<T>): Promise<T> {
  const gl = (tf.backend() as MathBackendWebGL).gpgpu.gl as WebGL2RenderingContext;
  const getParameter = gl.getParameter;
  gl.getParameter = function (name: GLenum) {
    const value = getParameter.call(this, name);
    return name === gl.MAX_DRAW_BUFFERS ? Math.min(value, count) : value;
  };
  try {
    return await f();
  } finally {
    gl.getParameter = getParameter;
  }
}

describe(`webgl fused blocks under device flags (seed ${seed})`, () => {
  it('half-float textures: fused blocks run and are no worse than stock ops on the same textures', async () => {
    await withWebGLFlags({ WEBGL_FORCE_F16_TEXTURES: true }, async () => {
      expect(tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED')).toBeFalse();
      const rng = new Rng(seed);
      for (const t of [CONVNEXT, CONVFIRST]) {
        const r = await runFusedAndStock(t, new Rng(rng.int(1, 2 ** 30)));
        expect(r.programs).toEqual(FUSED_PASSES);
        expectNearStock(r, { factor: 2, halfFloats: true });
      }
      // An outlier in channel 0, the shift of the folded LayerNorm's moments: the fold subtracts (mean - K) times
      // the weight sums, which must be the sums of the weights as the half-float texture holds them (with the
      // unrounded sums the error was 5x stock's at C = 384).
      const outlier = await runFusedAndStock(WIDE_CONVNEXT, new Rng(rng.int(1, 2 ** 30)), (w) => { w.dwBias[0] += 40; });
      expectNearStock(outlier, { factor: 2, halfFloats: true });
    });
  });

  it('float32 textures: an outlier in one of the first channels does not cost the folded LayerNorm its precision', async () => {
    // The fold's one-pass moments are shifted by K per pixel; K = channel 0 gave 2.2e-4 against stock's 2.2e-6 when
    // that channel sat 40 above the rest (the shifted sums cancel). Trained ConvNeXts do have such channels.
    await withWebGLFlags({}, async () => {
      expect(tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED')).toBeTrue();
      const rng = new Rng(seed + 3);
      for (const channel of [0, 1]) {
        const r = await runFusedAndStock(WIDE_CONVNEXT, new Rng(rng.int(1, 2 ** 30)), (w) => { w.dwBias[channel] += 40; });
        expect(r.programs).toEqual(FUSED_PASSES);
        expectNearStock({ ...r, label: `${r.label}, outlier in channel ${channel}` }, { factor: 4, floor: 2e-5 });
      }
    });
  });

  for (const drawBuffers of [4, 1]) {
    it(`MAX_DRAW_BUFFERS ${drawBuffers}: the 1x1 passes write at most ${drawBuffers} targets and match float64`, async () => {
      await withMaxDrawBuffers(drawBuffers, async () => {
        const rng = new Rng(seed + drawBuffers);
        const onePass = drawBuffers === 1 ? 'PointwiseProgram' : `MultiTargetPass(${drawBuffers})`;
        for (const t of [CONVNEXT, CONVFIRST]) {
          const r = await runFusedAndStock(t, new Rng(rng.int(1, 2 ** 30)));
          expect(r.programs).toEqual(['SpatialConvProgram', onePass, onePass]);
          compare(r.fused, r.expected, r.depth, r.label);
        }
      });
    });
  }

  it('WEBGL_PACK false: a batch slice of a stock op\'s output (an unpacked view) is packed once, then the fused passes', async () => {
    await withWebGLFlags({ WEBGL_PACK: false }, async () => {
      const rng = new Rng(seed + 7);
      const backend = tf.backend() as MathBackendWebGL;
      // tfjs slices an unpacked tensor along the batch without copying: the slice shares its source's texture.
      const batchSlice = (x: tf.Tensor4D) => {
        const y = tf.tidy(() => tf.slice(tf.concat([x, x]), [x.shape[0], 0, 0, 0], x.shape)) as tf.Tensor4D;
        const texData = backend.texData.get(y.dataId);
        expect(texData.isPacked).withContext('stock op output').toBeFalsy();
        expect(texData.slice).withContext('a view into the concatenation').toBeDefined();
        return y;
      };
      for (const t of [CONVNEXT, CONVFIRST]) {
        const r = await runFusedAndStock(t, new Rng(rng.int(1, 2 ** 30)), undefined, batchSlice);
        expect(r.programs).toEqual(['PackProgram', ...FUSED_PASSES]);
        compare(r.fused, r.expected, r.depth, r.label);
      }
    });
  });
});
