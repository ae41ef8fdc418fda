/**
 * Seeded random weights. Scaled like the shared fixtures (fixtures/README.md) so that every block branch
 * contributes about as much as its residual and a wrong fused kernel cannot hide behind the skip path:
 * conv / linear weights ~ N(0, 1/fan_in), biases ~ N(0, 0.1^2), norm scales in [0.5, 1.5], norm shifts
 * ~ N(0, 0.1^2), layer scales in [0.5, 1.0]. Not a training initialisation: these models exist to be run
 * and timed.
 */
export class WeightInit {
  private state: number;

  constructor(readonly seed: number, readonly mode: 'random' | 'zeros' = 'random') {
    // Every seed in [0, 2^32) its own starting state (mulberry32 needs no nonzero state; its states form one 2^32
    // cycle, so two seeds give the same sequence from different points); resolveConfig rejects the rest.
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1) (mulberry32: fast, and the same sequence in every JS engine). */
  private next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  normal(n: number, std: number): Float32Array {
    const out = new Float32Array(n);
    if (this.mode === 'zeros') return out;
    for (let i = 0; i < n; i += 2) {
      // Box-Muller gives two independent normals per pair of uniforms.
      const r = Math.sqrt(-2 * Math.log(1 - this.next()));
      const a = 2 * Math.PI * this.next();
      out[i] = std * r * Math.cos(a);
      if (i + 1 < n) out[i + 1] = std * r * Math.sin(a);
    }
    return out;
  }

  uniform(n: number, lo: number, hi: number): Float32Array {
    const out = new Float32Array(n);
    if (this.mode === 'zeros') return out;
    for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * this.next();
    return out;
  }

  /** Weights of a layer whose outputs each sum `fanIn` products. */
  weight(n: number, fanIn: number): Float32Array {
    return this.normal(n, 1 / Math.sqrt(fanIn));
  }

  bias(n: number): Float32Array {
    return this.normal(n, 0.1);
  }

  normScale(n: number): Float32Array {
    return this.uniform(n, 0.5, 1.5);
  }

  normShift(n: number): Float32Array {
    return this.normal(n, 0.1);
  }

  layerScale(n: number): Float32Array {
    return this.uniform(n, 0.5, 1.0);
  }
}
