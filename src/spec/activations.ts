/**
 * The activation functions a fused block can apply to its hidden layer. This table is the single
 * description of their math: the reference composes them from stock TF.js ops, and the WGSL and
 * GLSL generators emit them from the `wgsl` / `glsl` expressions below.
 */
export const ACTIVATIONS = ['gelu', 'gelu_tanh', 'silu', 'relu', 'relu6'] as const;
export type Activation = typeof ACTIVATIONS[number];

export function isActivation(name: unknown): name is Activation {
  return typeof name === 'string' && (ACTIVATIONS as readonly string[]).includes(name);
}

/**
 * Abramowitz-Stegun 7.1.26 erf constants, identical to tfjs-core's `backend_util.ERF_*`, so a fused
 * exact GELU matches the stock one.
 */
export const ERF = {
  p: 0.3275911,
  a1: 0.254829592,
  a2: -0.284496736,
  a3: 1.421413741,
  a4: -1.453152027,
  a5: 1.061405429,
} as const;

export const SQRT1_2 = Math.SQRT1_2;
export const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
export const GELU_TANH_COEFF = 0.044715;

/** A float literal for shader code (always with a decimal point so WGSL/GLSL parse it as float). */
export function floatLiteral(v: number): string {
  const s = Number.isInteger(v) ? v.toFixed(1) : v.toPrecision(9);
  return s.includes('e') && !s.includes('.') ? s.replace('e', '.0e') : s;
}
