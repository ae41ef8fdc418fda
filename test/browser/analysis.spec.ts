import * as tf from '@tensorflow/tfjs-core';
import '../../src/index.js';
import { analyzeFunction, drawFigures, type ModelAnalysis } from '../../src/analysis/analyze.js';
import { profileFunction } from '../../src/analysis/profiler.js';
import { peaksFromMicrobench, userPeaks } from '../../src/analysis/peaks.js';
import { measureWebGLPeaks } from '../../src/analysis/webgl_microbench.js';
import { GPU_BACKENDS, useBackend } from '../support/browser_backends.js';

function smallNetwork(x: tf.Tensor4D, w: tf.Tensor4D, m: tf.Tensor2D) {
  return () => tf.tidy(() => {
    const c = tf.relu(tf.conv2d(x, w, 1, 'same'));
    return tf.add(tf.matMul(tf.mean(c, [1, 2]) as tf.Tensor2D, m), 1);
  });
}

function inputs() {
  return [tf.randomNormal([1, 12, 12, 3]), tf.randomNormal([3, 3, 3, 8]), tf.randomNormal([8, 5])] as
    [tf.Tensor4D, tf.Tensor4D, tf.Tensor2D];
}

for (const backend of GPU_BACKENDS) {
  describe(`analysis profiler on ${backend}`, () => {
    it('reports its timing source and totals that equal the sums of kernel rows', async () => {
      await useBackend(backend);
      const [x, w, m] = inputs();
      const before = tf.memory().numTensors;
      const p = await profileFunction(smallNetwork(x, w, m), { repeats: 2 });
      expect(tf.memory().numTensors).toBe(before);
      expect(p.kernels.map((k) => k.name)).toEqual(['Conv2D', 'Relu', 'Mean', 'BatchMatMul', 'Add']);
      if (backend === 'webgpu') {
        expect(p.timing).toBe('gpu-timestamp');
      } else if (p.timing === 'wall') {
        // SwiftShader's WebGL has no reliable timer query: wall time per kernel, and a warning says so.
        expect(p.warnings.some((s) => /no reliable EXT_disjoint_timer_query/.test(s))).toBeTrue();
      } else {
        expect(p.timing).toBe('gpu-timer-query');
      }
      expect(p.totals.timeMs).toBe(p.kernels.reduce((s, k) => s + k.timeMs, 0));
      expect(p.totals.flops).toBe(p.kernels.reduce((s, k) => s + k.flops, 0));
      tf.dispose([x, w, m]);
    });
  });
}

describe('analysis figures rendered by Chromium', () => {
  let models: ModelAnalysis[] = [];
  const peaks = userPeaks(0.05, 10);

  beforeAll(async () => {
    await useBackend('webgl');
    const [x, w, m] = inputs();
    models = [await analyzeFunction('small net', smallNetwork(x, w, m), { peaks }),
      await analyzeFunction('same net, again', smallNetwork(x, w, m), { peaks })];
    tf.dispose([x, w, m]);
  });

  /** Real text boxes of the rendered SVG, checked pairwise for overlap within one group. */
  function overlaps(boxes: DOMRect[]): number {
    let n = 0;
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i];
        const b = boxes[j];
        if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5) n++;
      }
    }
    return n;
  }

  for (const key of ['efficiencyGap', 'waterline', 'roofline'] as const) {
    it(`${key}: no two labels overlap, legend outside the plot, everything inside the canvas`, () => {
      const host = document.createElement('div');
      host.innerHTML = drawFigures(models, peaks)[key];
      document.body.appendChild(host);
      try {
        const svg = host.querySelector('svg')!;
        const canvas = svg.getBoundingClientRect();
        const texts = [...svg.querySelectorAll('text')];
        const boxes = texts.map((t) => t.getBoundingClientRect());
        // Labels (titles, ticks, axis labels, legend) never collide; rotated or not.
        expect(overlaps(boxes)).toBe(0);
        for (const b of boxes) {
          expect(b.left).toBeGreaterThanOrEqual(canvas.left - 0.5);
          expect(b.right).toBeLessThanOrEqual(canvas.right + 0.5);
          expect(b.top).toBeGreaterThanOrEqual(canvas.top - 0.5);
          expect(b.bottom).toBeLessThanOrEqual(canvas.bottom + 0.5);
        }
        const frame = [...svg.querySelectorAll(':scope > rect[fill="none"]')].pop()!.getBoundingClientRect();
        for (const t of svg.querySelectorAll('.legend text')) expect(t.getBoundingClientRect().left).toBeGreaterThan(frame.right);
      } finally {
        host.remove();
      }
    });
  }
});

describe('WebGL2 microbenchmark', () => {
  it('measures a positive FMA rate and copy bandwidth on its own context', async () => {
    const m = await measureWebGLPeaks(undefined, { size: 64, fmaIterations: 16, repeats: 2 });
    expect(['timer-query', 'wall']).toContain(m.timing);
    expect(Number.isFinite(m.fmaTflops) && m.fmaTflops > 0).toBeTrue();
    expect(Number.isFinite(m.copyGBps) && m.copyGBps > 0).toBeTrue();
    const p = peaksFromMicrobench(m, 'webgl');
    expect(p.flopsPerSecond).toBe(m.fmaTflops * 1e12);
  });
});

describe('WebGL2 microbenchmark on the webgl backend\'s own context', () => {
  it('leaves tfjs\'s programs working: ops compiled before it give right results after it', async () => {
    await useBackend('webgl');
    const gl = (tf.backend() as unknown as { gpgpu: { gl: WebGL2RenderingContext } }).gpgpu.gl;
    const run = async (x: number[]) => {
      const a = tf.tensor2d(x, [2, 3]);
      const y = tf.tidy(() => tf.relu(tf.add(a, a)));
      const out = Array.from(await y.data(), (v) => v + 0); // relu gives -0 for negatives
      tf.dispose([a, y]);
      return out;
    };
    expect(await run([1, -2, 3, -4, 5, -6])).toEqual([2, 0, 6, 0, 10, 0]);
    await measureWebGLPeaks(gl, { size: 64, fmaIterations: 16, repeats: 2 });
    // The same programs (and their vertex array objects) on new values: a stale output texture would not match.
    expect(await run([-7, 8, -9, 10, -11, 12])).toEqual([0, 16, 0, 20, 0, 24]);
    expect(gl.getError()).toBe(gl.NO_ERROR);
  });
});
