/** Records what the webgl backend runs: draw calls and tfjs program classes (karma specs). */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';

/**
 * Runs `f` on the active webgl backend and returns its result with the draw calls and programs it issued:
 * tfjs program class names, and `MultiTargetPass(T)` for a draw that writes T > 1 render targets (those
 * bypass runWebGLProgram; see src/kernels/webgl/multi_target_pass.ts); and the framebuffer blits (texture
 * copies, not draws).
 */
export function recordPasses<T>(f: () => T): { result: T; draws: number; blits: number; programs: string[] } {
  const backend = tf.backend() as MathBackendWebGL;
  const gl = backend.gpgpu.gl;
  const programs: string[] = [];
  let draws = 0;
  let blits = 0;
  const drawElements = gl.drawElements;
  const gl2 = gl as WebGL2RenderingContext;
  const blitFramebuffer = gl2.blitFramebuffer;
  gl2.blitFramebuffer = function (...args: Parameters<typeof blitFramebuffer>) {
    blits++;
    return blitFramebuffer.apply(this, args);
  };
  const drawBuffers = gl2.drawBuffers;
  gl2.drawBuffers = function (buffers: GLenum[]) {
    if (buffers.length > 1) programs.push(`MultiTargetPass(${buffers.length})`);
    return drawBuffers.call(this, buffers);
  };
  const runWebGLProgram = backend.runWebGLProgram;
  gl.drawElements = function (...args: Parameters<typeof drawElements>) {
    draws++;
    return drawElements.apply(this, args);
  };
  backend.runWebGLProgram = function (...args: Parameters<typeof runWebGLProgram>) {
    programs.push(args[0].constructor.name);
    return runWebGLProgram.apply(this, args);
  };
  try {
    const result = f();
    return { result, draws, blits, programs };
  } finally {
    gl.drawElements = drawElements;
    gl2.drawBuffers = drawBuffers;
    gl2.blitFramebuffer = blitFramebuffer;
    backend.runWebGLProgram = runWebGLProgram;
  }
}
