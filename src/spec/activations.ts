/**
 * The activation functions a fused block can apply to its hidden layer. This table is the single
 * description of their math: the reference composes them from stock TF.js ops, and the WGSL and
 * GLSL generators emit them from ACTIVATION_CODE below.
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

export type ShaderLanguage = 'wgsl' | 'glsl';

/** erf(u) = sign(u) (1 - t (a1 + t (a2 + t (a3 + t (a4 + t a5)))) exp(-u^2)), t = 1 / (1 + p |u|). */
function erfCode(u: string): string {
  const t = `(1.0 / (1.0 + ${floatLiteral(ERF.p)} * abs(${u})))`;
  const horner = `((((${floatLiteral(ERF.a5)} * ${t} + ${floatLiteral(ERF.a4)}) * ${t} + ${floatLiteral(ERF.a3)}) * ` +
    `${t} + ${floatLiteral(ERF.a2)}) * ${t} + ${floatLiteral(ERF.a1)}) * ${t}`;
  return `(sign(${u}) * (1.0 - ${horner} * exp(-${u} * ${u})))`;
}

/** tanh(u) = sign(u) (1 - e) / (1 + e), e = exp(-2 |u|): no overflow for large |u|. */
function tanhCode(u: string): string {
  const e = `exp(-2.0 * abs(${u}))`;
  return `(sign(${u}) * (1.0 - ${e}) / (1.0 + ${e}))`;
}

/**
 * The activation math for both shader generators: an expression of the vec4 named `v` (pass a variable
 * name: the expression repeats it), written with functions WGSL and GLSL share (abs, sign, exp; relu's lane choice
 * is WGSL's select or GLSL's mix with a bvec4, see replaceBeyond).
 * erf is the same Abramowitz-Stegun form as tfjs's Erf kernel and tanh the overflow-safe form of its Tanh, so
 * fused results track stock ones.
 */
export const ACTIVATION_CODE: Record<Activation, (v: string, lang: ShaderLanguage) => string> = {
  gelu: (v) => `(0.5 * ${v} * (1.0 + ${erfCode(`(${v} * ${floatLiteral(SQRT1_2)})`)}))`,
  gelu_tanh: (v) => `(0.5 * ${v} * (1.0 + ${tanhCode(
    `(${floatLiteral(SQRT_2_OVER_PI)} * (${v} + ${floatLiteral(GELU_TANH_COEFF)} * ${v} * ${v} * ${v}))`)}))`,
  silu: (v) => `(${v} / (1.0 + exp(-${v})))`,
  // Comparisons and selects, not max / clamp: GPUs' max(NaN, 0) is 0, which would hide a NaN that stock tf.relu
  // (and the reference) passes on; NaN < 0 and NaN > 6 are false, so a NaN lane keeps v.
  relu: (v, lang) => replaceBeyond(v, 'below', 0, lang),
  relu6: (v, lang) => replaceBeyond(`(${replaceBeyond(v, 'below', 0, lang)})`, 'above', 6, lang),
};

/**
 * v with the lanes on `side` of `bound` (below or above it) replaced by the bound: WGSL select / GLSL mix with a
 * bvec4, an exact choice, no blending; a NaN lane compares false and keeps v.
 */
function replaceBeyond(v: string, side: 'below' | 'above', bound: number, lang: ShaderLanguage): string {
  const b = `vec4${lang === 'wgsl' ? '<f32>' : ''}(${floatLiteral(bound)})`;
  const [op, glslTest] = side === 'below' ? ['<', 'lessThan'] : ['>', 'greaterThan'];
  return lang === 'wgsl' ? `select(${v}, ${b}, ${v} ${op} ${b})` : `mix(${v}, ${b}, ${glslTest}(${v}, ${b}))`;
}

/** GLSL expression builders, one per activation (the WebGL generator's view of ACTIVATION_CODE). */
export const ACTIVATION_GLSL = Object.fromEntries(
  Object.entries(ACTIVATION_CODE).map(([name, code]) => [name, (v: string) => code(v, 'glsl')]),
) as Record<Activation, (v: string) => string>;

/** A WGSL function `fn name(v: vec4<f32>) -> vec4<f32>` applying `activation` lane-wise. */
export function wgslActivationFunction(activation: Activation, name = 'activation'): string {
  return `fn ${name}(v: vec4<f32>) -> vec4<f32> {\n  return ${ACTIVATION_CODE[activation]('v', 'wgsl')};\n}`;
}
