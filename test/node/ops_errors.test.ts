import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { convfirstBlock, convnextBlock } from '../../src/index.js';
import { useBackend } from '../support/node_backends.js';

/** Builds valid weights for C channels, D hidden, k x k, group width g; `over` replaces entries. */
function convnextArgs(c = 8, d = 16, k = 3) {
  return {
    x: tf.zeros([1, 5, 5, c]),
    w: {
      dwFilter: tf.zeros([k, k, c, 1]), dwBias: tf.zeros([c]), lnGamma: tf.ones([c]), lnBeta: tf.zeros([c]),
      w1: tf.zeros([c, d]), b1: tf.zeros([d]), w2: tf.zeros([d, c]), b2: tf.zeros([c]),
    } as Record<string, tf.Tensor | unknown>,
  };
}
function convfirstArgs(c = 8, d = 16, k = 3, g = 4) {
  return {
    x: tf.zeros([1, 5, 5, c]),
    w: {
      filter: tf.zeros([k, k, g, c]), bias: tf.zeros([c]),
      w1: tf.zeros([c, d]), b1: tf.zeros([d]), w2: tf.zeros([d, c]), b2: tf.zeros([c]),
    } as Record<string, tf.Tensor | unknown>,
  };
}

type Args = [unknown, unknown, unknown?];
const args = (...a: unknown[]) => a as Args;

/**
 * Builds the arguments first (tensors the test makes are not the op's to free), then the op must throw an
 * Error matching `message` and leave the tensor count as it was.
 */
function expectError(op: (...a: never[]) => unknown, a: Args, message: RegExp) {
  const before = tf.memory().numTensors;
  assert.throws(() => op(...(a as unknown as never[])), (e: unknown) => {
    assert.ok(e instanceof Error, 'throws an Error');
    assert.match(e.message, message);
    return true;
  });
  assert.equal(tf.memory().numTensors, before, 'no tensors leaked');
}

function collectTensors(values: unknown[]): tf.Tensor[] {
  const out = new Set<tf.Tensor>();
  for (const v of values) {
    if (v instanceof tf.Tensor) out.add(v);
    else if (v != null && typeof v === 'object') for (const t of collectTensors(Object.values(v))) out.add(t);
  }
  return [...out].filter((t) => !t.isDisposed);
}

describe('convnextBlock bad input', () => {
  before(async () => { await useBackend('cpu'); });
  const cases: Array<[string, (a: ReturnType<typeof convnextArgs>) => Args, RegExp]> = [
    ['rank-3 x', (a) => args(tf.zeros([5, 5, 8]) as never, a.w as never),
      /convnextBlock: x must have shape \[N, H, W, C\] = \[\?, \?, \?, \?\], got \[5, 5, 8\]/],
    ['int32 x', (a) => args(tf.zeros([1, 5, 5, 8], 'int32') as never, a.w as never),
      /convnextBlock: x must be float32, got int32/],
    ['C mismatch in dwFilter', (a) => args(a.x as never, { ...a.w, dwFilter: tf.zeros([3, 3, 6, 1]) } as never),
      /weights\.dwFilter must have shape \[k, k, C, 1\] = \[\?, \?, 8, 1\], got \[3, 3, 6, 1\] \(C = 8 from x's shape\)$/],
    ['even k', (a) => args(a.x as never, { ...a.w, dwFilter: tf.zeros([4, 4, 8, 1]) } as never),
      /weights\.dwFilter must be a square filter with odd size k .* got 4x4/],
    // An empty batch or image is fine (an empty output); no channels or no hidden channels is no block.
    ['no channels (C = 0)', (a) => args(tf.zeros([1, 5, 5, 0]) as never, a.w as never),
      /convnextBlock: x must have at least one channel \(C >= 1\), got shape \[1, 5, 5, 0\]/],
    ['no hidden channels (D = 0)', (a) => args(a.x as never, { ...a.w, w1: tf.zeros([8, 0]), b1: tf.zeros([0]),
      w2: tf.zeros([0, 8]) } as never), /convnextBlock: weights\.w1 must have at least one hidden channel \(D >= 1\), got shape \[8, 0\]/],
    ['C mismatch in lnGamma', (a) => args(a.x as never, { ...a.w, lnGamma: tf.ones([7]) } as never),
      /weights\.lnGamma must have shape \[C\] = \[8\], got \[7\]/],
    ['C mismatch in w1', (a) => args(a.x as never, { ...a.w, w1: tf.zeros([9, 16]) } as never),
      /weights\.w1 must have shape \[C, D\] = \[8, \?\], got \[9, 16\]/],
    ['D mismatch in b1', (a) => args(a.x as never, { ...a.w, b1: tf.zeros([15]) } as never),
      /weights\.b1 must have shape \[D\] = \[16\], got \[15\]/],
    ['D mismatch in w2', (a) => args(a.x as never, { ...a.w, w2: tf.zeros([12, 8]) } as never),
      /weights\.w2 must have shape \[D, C\] = \[16, 8\], got \[12, 8\]/],
    ['C mismatch in layerScale', (a) => args(a.x as never, { ...a.w, layerScale: tf.ones([4]) } as never),
      /weights\.layerScale must have shape \[C\] = \[8\], got \[4\]/],
    ['float16-like int weights', (a) => args(a.x as never, { ...a.w, b2: tf.zeros([8], 'int32') } as never),
      /weights\.b2 must be float32, got int32/],
    ['missing weight', (a) => args(a.x as never, { ...a.w, w2: undefined } as never),
      /weights\.w2 is required/],
    ['unknown activation', (a) => args(a.x as never, a.w as never, { activation: 'swish' as never }),
      /options\.activation must be one of 'gelu', 'gelu_tanh', 'silu', 'relu', 'relu6', got "swish"/],
    ['negative epsilon', (a) => args(a.x as never, a.w as never, { epsilon: -1 }),
      /options\.epsilon must be a number in float32's normal range \[1\.17\d*e-38, 3\.40\d*e\+38\], got -1/],
    // epsilon 0 would make a pixel whose conv outputs are all equal normalize to 0 * rsqrt(0) = NaN.
    ['epsilon 0', (a) => args(a.x as never, a.w as never, { epsilon: 0 }),
      /convnextBlock: options\.epsilon must be a number in float32's normal range .*, got 0/],
    // Below float32's normal range it is 0 on a GPU (subnormals flush), past its max the f32 literal does not compile.
    ['epsilon 1e-50 (0 in float32)', (a) => args(a.x as never, a.w as never, { epsilon: 1e-50 }),
      /options\.epsilon must be a number in float32's normal range .*, got 1e-50/],
    ['epsilon 1e39 (past float32)', (a) => args(a.x as never, a.w as never, { epsilon: 1e39 }),
      /options\.epsilon must be a number in float32's normal range .*, got 1e\+39/],
    ['epsilon a string', (a) => args(a.x as never, a.w as never, { epsilon: '1e-6' as never }),
      /options\.epsilon must be a number in float32's normal range .*, got "1e-6"/],
    ['options not an object', (a) => args(a.x as never, a.w as never, 'fast' as never),
      /convnextBlock: options must be an object, got "fast"/],
    ['tensor-like weights are freed on error', (a) => args(a.x as never,
      { ...a.w, dwBias: [0, 0, 0, 0, 0, 0, 0, 0], b2: [1, 2] } as never), /weights\.b2 must have shape \[C\] = \[8\], got \[2\]/],
  ];
  for (const [name, run, message] of cases) {
    it(name, () => {
      const a = convnextArgs();
      const built = run(a);
      try {
        expectError(convnextBlock, built, message);
      } finally {
        tf.dispose(collectTensors([a.x, a.w, ...built]));
      }
    });
  }
  it('valid input still works after errors and accepts tensor-like values', async () => {
    const out = convnextBlock([[[[1, 2, 3, 4]]]], {
      dwFilter: tf.ones([3, 3, 4, 1]).arraySync() as number[][][][], dwBias: [0, 0, 0, 0], lnGamma: [1, 1, 1, 1],
      lnBeta: [0, 0, 0, 0], w1: tf.zeros([4, 4]).arraySync() as number[][], b1: [0, 0, 0, 0],
      w2: tf.zeros([4, 4]).arraySync() as number[][], b2: [0.5, 0.5, 0.5, 0.5],
    });
    assert.deepEqual(Array.from(await out.data()), [1.5, 2.5, 3.5, 4.5]);
    out.dispose();
  });
});

describe('convfirstBlock bad input', () => {
  before(async () => { await useBackend('cpu'); });
  const cases: Array<[string, (a: ReturnType<typeof convfirstArgs>) => Args, RegExp]> = [
    ['rank-5 x', (a) => args(tf.zeros([1, 1, 5, 5, 8]) as never, a.w as never),
      /convfirstBlock: x must have shape \[N, H, W, C\] = \[\?, \?, \?, \?\], got \[1, 1, 5, 5, 8\]/],
    ['no hidden channels (D = 0)', (a) => args(a.x as never, { ...a.w, w1: tf.zeros([8, 0]), b1: tf.zeros([0]),
      w2: tf.zeros([0, 8]) } as never), /convfirstBlock: weights\.w1 must have at least one hidden channel \(D >= 1\), got shape \[8, 0\]/],
    ['C not divisible by G', (a) => args(a.x as never, { ...a.w, filter: tf.zeros([3, 3, 3, 8]) } as never),
      /channels C = 8 must be divisible by the group width G = 3/],
    ['C mismatch in filter', (a) => args(a.x as never, { ...a.w, filter: tf.zeros([3, 3, 4, 12]) } as never),
      /weights\.filter must have shape \[k, k, G, C\] = \[\?, \?, \?, 8\], got \[3, 3, 4, 12\]/],
    ['even k', (a) => args(a.x as never, { ...a.w, filter: tf.zeros([2, 2, 4, 8]) } as never),
      /weights\.filter must be a square filter with odd size k/],
    ['non-square k', (a) => args(a.x as never, { ...a.w, filter: tf.zeros([3, 5, 4, 8]) } as never),
      /weights\.filter must be a square filter with odd size k .* got 3x5/],
    ['C mismatch in bias', (a) => args(a.x as never, { ...a.w, bias: tf.zeros([4]) } as never),
      /weights\.bias must have shape \[C\] = \[8\], got \[4\]/],
    ['C mismatch in w2', (a) => args(a.x as never, { ...a.w, w2: tf.zeros([16, 4]) } as never),
      /weights\.w2 must have shape \[D, C\] = \[16, 8\], got \[16, 4\]/],
    ['int32 filter', (a) => args(a.x as never, { ...a.w, filter: tf.zeros([3, 3, 4, 8], 'int32') } as never),
      /weights\.filter must be float32, got int32/],
    ['unknown activation', (a) => args(a.x as never, a.w as never, { activation: 'tanh' as never }),
      /options\.activation must be one of .* got "tanh"/],
    ['non-boolean residual', (a) => args(a.x as never, a.w as never, { residual: 1 as never }),
      /options\.residual must be a boolean, got 1/],
    ['weights not an object', (a) => args(a.x as never, null as never), /weights must be an object/],
    ['options not an object', (a) => args(a.x as never, a.w as never, 3 as never),
      /convfirstBlock: options must be an object, got 3/],
  ];
  for (const [name, run, message] of cases) {
    it(name, () => {
      const a = convfirstArgs();
      const built = run(a);
      try {
        expectError(convfirstBlock, built, message);
      } finally {
        tf.dispose(collectTensors([a.x, a.w, ...built]));
      }
    });
  }
});

describe('options null means the defaults', () => {
  before(async () => { await useBackend('cpu'); });
  it('convnextBlock and convfirstBlock with options null equal the calls without options', async () => {
    const n = convnextArgs(4, 8);
    const f = convfirstArgs(4, 8, 3, 2);
    n.x = tf.randomNormal([1, 5, 5, 4], 0, 1, 'float32', 7);
    n.w.lnBeta = tf.randomNormal([4], 0, 1, 'float32', 8);
    n.w.w2 = tf.randomNormal([8, 4], 0, 1, 'float32', 9);
    n.w.w1 = tf.randomNormal([4, 8], 0, 1, 'float32', 10);
    try {
      const pairs = [
        [convnextBlock(n.x as never, n.w as never, null), convnextBlock(n.x as never, n.w as never)],
        [convfirstBlock(n.x as never, f.w as never, null), convfirstBlock(n.x as never, f.w as never)],
      ];
      for (const [withNull, without] of pairs) {
        assert.deepEqual(Array.from(await withNull.data()), Array.from(await without.data()));
        tf.dispose([withNull, without]);
      }
    } finally {
      tf.dispose(collectTensors([n, f]));
    }
  });
});
