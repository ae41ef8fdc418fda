/**
 * Where a packed tensor's texels are. tfjs's packed layout stores 2x2 blocks of the last two dims in one
 * RGBA texel (x = (r, c), y = (r, c+1), z = (r+1, c), w = (r+1, c+1)), texels in row-major order of
 * (outer dims, row pair, column pair), wrapped onto a texture whose width is usually the texels per row
 * ("natural") but may be squarified for big tensors. The generated shaders address texels by (texel row,
 * texel column) and sample them with texture() at baked reciprocal sizes instead of tfjs's generic
 * samplers: no per-fetch index division in the natural case, which is what makes the inner loops cheap on
 * SwiftShader (texelFetch measured slower there per fetch).
 */
import { type TensorInfo, util } from '@tensorflow/tfjs-core';
import type { MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import { isReshapeFree, packedTextureShape } from './webgl_rules.js';
import { floatLiteral } from '../../spec/activations.js';

export interface PackedLayout {
  /** Texel rows of the logical matrix: outer dims times ceil(rows / 2). */
  rows: number;
  /** Texels per logical row: ceil(cols / 2). */
  cols: number;
  /** Physical texture width and height in texels. */
  texWidth: number;
  texHeight: number;
}

/** Texel rows / cols of a packed tensor of `shape`: for NHWC, rows = N * H * ceil(W / 2) pixel pairs. */
export function texelGrid(shape: readonly number[]): { rows: number; cols: number } {
  const s = shape.length === 1 ? [1, shape[0]] : shape;
  const outer = s.slice(0, -2).reduce((a, b) => a * b, 1);
  return { rows: outer * Math.ceil(s[s.length - 2] / 2), cols: Math.ceil(s[s.length - 1] / 2) };
}

/** The layout tfjs gives a packed tensor of this logical texShape. */
export function layoutFromTexShape(shape: readonly number[], texShape: readonly number[]): PackedLayout {
  return { ...texelGrid(shape), texWidth: Math.ceil(texShape[1] / 2), texHeight: Math.ceil(texShape[0] / 2) };
}

/** The layout tfjs will give a new packed output of `shape`. */
export function outputLayout(shape: readonly number[]): PackedLayout {
  return layoutFromTexShape(shape, packedTextureShape(shape));
}

export function isNatural(l: PackedLayout): boolean {
  return l.texWidth === l.cols;
}

/** GLSL `vec4 fetch<Name>(int row, int col)`: texel (row pair, column pair) of input sampler `name`. */
export function fetchSnippet(name: string, l: PackedLayout): string {
  const scale = `vec2(${floatLiteral(1 / l.texWidth)}, ${floatLiteral(1 / l.texHeight)})`;
  if (isNatural(l)) {
    return `vec4 fetch${name}(int row, int col) { return texture(${name}, (vec2(col, row) + 0.5) * ${scale}); }`;
  }
  return `vec4 fetch${name}(int row, int col) {
    int i = row * ${l.cols} + col;
    int r = i / ${l.texWidth};
    return texture(${name}, (vec2(i - r * ${l.texWidth}, r) + 0.5) * ${scale});
  }`;
}

/**
 * A walk along one texel row (`along: 'col'`, row fixed) or column (`along: 'row'`) of an input, for
 * inner loops: in the natural layout the texture coordinate is set up once and each step costs one
 * multiply-add on a float counter (exact for integers, so no drift over long loops); otherwise it falls
 * back to fetch<Name>.
 */
export function texelWalk(name: string, l: PackedLayout, along: 'col' | 'row', fixed: string,
  uv = `uv${name}`): {
  setup: string; fetch: (stepFloat: string, stepInt: string) => string;
} {
  if (!isNatural(l)) {
    return { setup: '', fetch: (_f, i) => along === 'col' ? `fetch${name}(${fixed}, ${i})` : `fetch${name}(${i}, ${fixed})` };
  }
  const sx = floatLiteral(1 / l.texWidth);
  const sy = floatLiteral(1 / l.texHeight);
  if (along === 'col') {
    return { setup: `vec2 ${uv} = vec2(0.5 * ${sx}, (float(${fixed}) + 0.5) * ${sy});`,
      fetch: (f) => `texture(${name}, vec2(${uv}.x + ${f} * ${sx}, ${uv}.y))` };
  }
  return { setup: `vec2 ${uv} = vec2((float(${fixed}) + 0.5) * ${sx}, 0.5 * ${sy});`,
    fetch: (f) => `texture(${name}, vec2(${uv}.x, ${uv}.y + ${f} * ${sy}))` };
}

/**
 * GLSL that sets `int row, col` (texel row / column of the output's logical matrix) for this fragment
 * and returns early from main() (after `writeZero`) for texels past the end of a squarified texture.
 */
export function outputTexelSnippet(l: PackedLayout, writeZero = 'setOutput(vec4(0.0));'): string {
  if (isNatural(l)) return 'ivec2 frag = ivec2(gl_FragCoord.xy); int row = frag.y; int col = frag.x;';
  return `ivec2 frag = ivec2(gl_FragCoord.xy);
    int texel = frag.y * ${l.texWidth} + frag.x;
    if (texel >= ${l.rows * l.cols}) { ${writeZero} return; }
    int row = texel / ${l.cols}; int col = texel - row * ${l.cols};`;
}

/**
 * Makes `info` a packed, GPU-resident texture whose texel order matches its own shape, as
 * runWebGLProgram would, but once per kernel (so an input used by two passes is converted once) and
 * before the shader is generated (so its texture shape is known). Returns the tensor to use and whether
 * it is a temporary the caller must dispose.
 */
export function ensurePacked(backend: MathBackendWebGL, info: TensorInfo): { info: TensorInfo; temporary: boolean } {
  const texData = backend.texData.get(info.dataId);
  if (texData.texture == null) {
    // Still on the CPU: upload it packed straight away (runWebGLProgram's own rule for packed programs).
    texData.isPacked = true;
    texData.shape = info.shape;
    backend.uploadToGPU(info.dataId);
    return { info, temporary: false };
  }
  if (!texData.isPacked) return { info: backend.packTensor(info), temporary: true };
  if (!isReshapeFree(texData.shape, info.shape)) {
    const reshape = (backend as unknown as { packedReshape(i: TensorInfo, s: number[]): TensorInfo }).packedReshape;
    return { info: reshape.call(backend, { ...info, shape: texData.shape }, info.shape as number[]),
      temporary: true };
  }
  return { info, temporary: false };
}

/** The layout of a tensor already made packed by ensurePacked. */
export function inputLayout(backend: MathBackendWebGL, info: TensorInfo): PackedLayout {
  const texShape = backend.texData.get(info.dataId).texShape;
  if (texShape == null) {
    throw new Error(`webgl block kernels: input of shape [${info.shape}] has no texture (size ${util.sizeFromShape(info.shape)})`);
  }
  return layoutFromTexShape(info.shape, texShape);
}
