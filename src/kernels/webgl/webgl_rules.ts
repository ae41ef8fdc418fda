/**
 * The three pieces of tfjs-backend-webgl's `webgl_util` the WebGL kernels need, written out here: importing that
 * module loads tfjs-backend-webgl, which registers the webgl backend, so a WebGPU-only app importing this package
 * would ship and start WebGL too. The texture-shape and reshape rules must equal tfjs 4.22's (webgl_util.ts,
 * Apache-2.0) exactly: the packed layouts computed from them address textures tfjs allocated. A karma spec checks
 * them against webgl_util on many shapes.
 */
import * as tf from '@tensorflow/tfjs-core';

const isEven = (n: number) => n % 2 === 0;

/** webgl_util.getTextureShapeFromLogicalShape(logShape, isPacked = true): the texture tfjs gives a packed tensor. */
export function packedTextureShape(shape: readonly number[]): [number, number] {
  const env = tf.env();
  let maxTexSize = env.getNumber('WEBGL_MAX_TEXTURE_SIZE');
  let maxSizeForNarrowTex = env.getNumber('WEBGL_MAX_SIZE_FOR_NARROW_TEXTURE');
  if (maxSizeForNarrowTex === Infinity && env.getBool('WEBGL_AUTO_SQUARIFY_NARROW_TEXTURE_SHAPE')) {
    maxSizeForNarrowTex = maxTexSize / 2;
  }
  maxTexSize *= 2;
  maxSizeForNarrowTex *= 2;
  // Texels pack adjacent pairs of rows / columns of one batch: odd inner sizes count as the next even one.
  let logShape = shape.map((d, i) => i >= shape.length - 2 ? tf.util.nearestLargerEven(d) : d);
  if (logShape.length === 1) logShape = [2, logShape[0]];
  if (logShape.length !== 2) logShape = tf.util.squeezeShape(logShape).newShape;
  let textureShape: number[] | null = null;
  const size = tf.util.sizeFromShape(logShape);
  const [a, b, c, d] = logShape;
  if (logShape.length <= 1 && size <= maxTexSize) textureShape = [1, size];
  else if (logShape.length === 2 && a <= maxTexSize && b <= maxTexSize) textureShape = logShape;
  else if (logShape.length === 3 && a * b <= maxTexSize && c <= maxTexSize) textureShape = [a * b, c];
  else if (logShape.length === 3 && a <= maxTexSize && b * c <= maxTexSize) textureShape = [a, b * c];
  else if (logShape.length === 4 && a * b * c <= maxTexSize && d <= maxTexSize) textureShape = [a * b * c, d];
  else if (logShape.length === 4 && a <= maxTexSize && b * c * d <= maxTexSize) textureShape = [a, b * c * d];
  const isLongNarrowTex = textureShape != null && Math.max(...textureShape) > maxSizeForNarrowTex &&
    Math.min(...textureShape) <= 2 && Math.min(...textureShape) > 0;
  if (textureShape == null || isLongNarrowTex) {
    const batch = tf.util.sizeFromShape(logShape.slice(0, logShape.length - 2));
    const [rows, cols] = logShape.length === 0 ? [2, 2] :
      [logShape.length > 1 ? logShape[logShape.length - 2] : 1, logShape[logShape.length - 1]];
    textureShape = tf.util.sizeToSquarishShape(batch * (rows / 2) * (cols / 2)).map((v) => v * 2);
  }
  return textureShape as [number, number];
}

/** webgl_util.isReshapeFree: whether a packed texture of shape1 reads as shape2 without moving texels. */
export function isReshapeFree(shape1: readonly number[], shape2: readonly number[]): boolean {
  const s1 = shape1.slice(-2);
  const s2 = shape2.slice(-2);
  if (tf.util.arraysEqual(s1, s2)) return true;
  if (!s1.length || !s2.length) return true;
  if (s1[0] === 0 || s1[1] === 0 || s2[0] === 0 || s2[1] === 0) return true;
  if (s1.length !== s2.length) {
    const cols1 = s1[s1.length - 1];
    const cols2 = s2[s2.length - 1];
    if (cols1 === cols2) return true;
    if (isEven(cols1) && isEven(cols2) && (s1[0] === 1 || s2[0] === 1)) return true;
  }
  return s1[1] === s2[1] && isEven(s1[0]) && isEven(s2[0]);
}

/** A compiled fragment shader; a compile error throws with the driver's log (webgl_util prints it to the console). */
export function compileFragmentShader(gl: WebGLRenderingContext, source: string): WebGLShader {
  const shader = gl.createShader(gl.FRAGMENT_SHADER);
  if (shader == null) throw new Error('Unable to create fragment WebGLShader.');
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  // Under ENGINE_COMPILE_ONLY (tfjs's parallel-compile warm-up) the status is not asked for: it would wait.
  if (!tf.env().getBool('ENGINE_COMPILE_ONLY') && gl.getShaderParameter(shader, gl.COMPILE_STATUS) === false) {
    throw new Error(`Failed to compile fragment shader: ${gl.getShaderInfoLog(shader)}`);
  }
  return shader;
}
