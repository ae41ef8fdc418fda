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
 * GLSL for each activation, as the body of `vec4 NAME(vec4 v)`: the same shape and the same statements
 * as the WGSL table (`WGSL_ACTIVATIONS` on the webgpu side), line for line, with GLSL declarations.
 * Exact GELU uses the erf constants above (tfjs's Erf kernel), tanh is written through exp(-2|z|) so it
 * cannot overflow to NaN for large |z|.
 */
const GLSL_ERF = `
  vec4 erfArg = v * ${floatLiteral(SQRT1_2)};
  vec4 erfAbs = abs(erfArg);
  vec4 erfT = 1.0 / (1.0 + ${floatLiteral(ERF.p)} * erfAbs);
  vec4 erfPoly = ((((${floatLiteral(ERF.a5)} * erfT + ${floatLiteral(ERF.a4)}) * erfT + ${floatLiteral(ERF.a3)}) * erfT +
    ${floatLiteral(ERF.a2)}) * erfT + ${floatLiteral(ERF.a1)}) * erfT;
  vec4 erfValue = sign(erfArg) * (1.0 - erfPoly * exp(-erfAbs * erfAbs));`;

export const GLSL_ACTIVATIONS: Record<Activation, string> = {
  gelu: `${GLSL_ERF}
  return 0.5 * v * (1.0 + erfValue);`,
  gelu_tanh: `
  vec4 inner = ${floatLiteral(SQRT_2_OVER_PI)} * (v + ${floatLiteral(GELU_TANH_COEFF)} * v * v * v);
  vec4 e2 = exp(-2.0 * abs(inner));
  return 0.5 * v * (1.0 + sign(inner) * (1.0 - e2) / (1.0 + e2));`,
  silu: `
  return v / (1.0 + exp(-v));`,
  relu: `
  return max(v, vec4(0.0));`,
  relu6: `
  return clamp(v, vec4(0.0), vec4(6.0));`,
};

/** A GLSL function `vec4 name(vec4 v)` applying `activation` lane-wise. */
export function glslActivationFunction(activation: Activation, name = 'activation'): string {
  return `vec4 ${name}(vec4 v) {${GLSL_ACTIVATIONS[activation]}\n}`;
}
