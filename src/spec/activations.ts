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

/**
 * Activation code for the GLSL generator, one expression per activation of a vec4 named by `v` (pass a
 * variable name: the expression repeats it). Written with functions both shading languages share (abs,
 * sign, exp, max, clamp) so the WGSL table can mirror it term by term. erf is the same Abramowitz-Stegun
 * form as tfjs's ERF op and tanh the overflow-safe form of tfjs's TANH, so fused results track stock ones.
 */
export const ACTIVATION_GLSL: Record<Activation, (v: string) => string> = {
  gelu: (v) => `(0.5 * ${v} * (1.0 + ${glslErf(`(${v} * ${floatLiteral(SQRT1_2)})`)}))`,
  gelu_tanh: (v) => `(0.5 * ${v} * (1.0 + ${glslTanh(
    `(${floatLiteral(SQRT_2_OVER_PI)} * (${v} + ${floatLiteral(GELU_TANH_COEFF)} * ${v} * ${v} * ${v}))`)}))`,
  silu: (v) => `(${v} / (1.0 + exp(-${v})))`,
  relu: (v) => `max(${v}, 0.0)`,
  relu6: (v) => `clamp(${v}, 0.0, 6.0)`,
};

/** erf(u) = sign(u) (1 - t (a1 + t (a2 + t (a3 + t (a4 + t a5)))) exp(-u^2)), t = 1 / (1 + p |u|). */
function glslErf(u: string): string {
  const t = `(1.0 / (1.0 + ${floatLiteral(ERF.p)} * abs(${u})))`;
  const horner = `((((${floatLiteral(ERF.a5)} * ${t} + ${floatLiteral(ERF.a4)}) * ${t} + ${floatLiteral(ERF.a3)}) * ` +
    `${t} + ${floatLiteral(ERF.a2)}) * ${t} + ${floatLiteral(ERF.a1)}) * ${t}`;
  return `(sign(${u}) * (1.0 - ${horner} * exp(-${u} * ${u})))`;
}

/** tanh(u) = sign(u) (1 - e) / (1 + e), e = exp(-2 |u|): no overflow for large |u|. */
function glslTanh(u: string): string {
  const e = `exp(-2.0 * abs(${u}))`;
  return `(sign(${u}) * (1.0 - ${e}) / (1.0 + ${e}))`;
}
