/**
 * Where a packed tensor's texels are. tfjs's packed layout stores 2x2 blocks of the last two dims in one
 * RGBA texel (x = (r, c), y = (r, c+1), z = (r+1, c), w = (r+1, c+1)), texels in row-major order of
 * (outer dims, row pair, column pair), wrapped onto a texture whose width is usually the texels per row
 * ("natural") but may be squarified for big tensors. The generated shaders fetch texels with texelFetch
 * from integer coordinates instead of tfjs's normalized-uv samplers: no per-fetch index division in the
 * natural case, which is what makes the inner loops cheap on SwiftShader.
 */
import { type TensorInfo, util } from '@tensorflow/tfjs-core';
import { type MathBackendWebGL, webgl_util } from '@tensorflow/tfjs-backend-webgl';

export interface PackedLayout {
  /** Texel rows of the logical matrix: outer dims times ceil(rows / 2). */
  rows: number;
  /** Texels per logical row: ceil(cols / 2). */
  cols: number;
  /** Physical texture width in texels. */
  texWidth: number;
}

/** Texel rows / cols of a packed tensor of `shape`: for NHWC, rows = N * H * ceil(W / 2) pixel pairs. */
export function texelGrid(shape: readonly number[]): { rows: number; cols: number } {
  const s = shape.length === 1 ? [1, shape[0]] : shape;
  const outer = s.slice(0, -2).reduce((a, b) => a * b, 1);
  return { rows: outer * Math.ceil(s[s.length - 2] / 2), cols: Math.ceil(s[s.length - 1] / 2) };
}

/** The layout tfjs gives a packed tensor of this logical texShape. */
export function layoutFromTexShape(shape: readonly number[], texShape: readonly number[]): PackedLayout {
  return { ...texelGrid(shape), texWidth: Math.ceil(texShape[1] / 2) };
}

/** The layout tfjs will give a new packed output of `shape`. */
export function outputLayout(shape: readonly number[]): PackedLayout {
  return layoutFromTexShape(shape, webgl_util.getTextureShapeFromLogicalShape(shape as number[], true));
}

export function isNatural(l: PackedLayout): boolean {
  return l.texWidth === l.cols;
}

/** GLSL `vec4 fetch<Name>(int row, int col)`: texel (row pair, column pair) of input sampler `name`. */
export function fetchSnippet(name: string, l: PackedLayout): string {
  if (isNatural(l)) {
    return `vec4 fetch${name}(int row, int col) { return texelFetch(${name}, ivec2(col, row), 0); }`;
  }
  return `vec4 fetch${name}(int row, int col) {
    int i = row * ${l.cols} + col;
    return texelFetch(${name}, ivec2(i - (i / ${l.texWidth}) * ${l.texWidth}, i / ${l.texWidth}), 0);
  }`;
}

/**
 * GLSL that sets `int row, col` (texel row / column of the output's logical matrix) for this fragment
 * and returns early from main() for texels past the end of a squarified texture.
 */
export function outputTexelSnippet(l: PackedLayout): string {
  if (isNatural(l)) return 'ivec2 frag = ivec2(gl_FragCoord.xy); int row = frag.y; int col = frag.x;';
  return `ivec2 frag = ivec2(gl_FragCoord.xy);
    int flat = frag.y * ${l.texWidth} + frag.x;
    if (flat >= ${l.rows * l.cols}) { setOutput(vec4(0.0)); return; }
    int row = flat / ${l.cols}; int col = flat - row * ${l.cols};`;
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
  if (!webgl_util.isReshapeFree(texData.shape, info.shape)) {
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
