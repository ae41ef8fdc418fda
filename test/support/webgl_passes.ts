/** Records what the webgl backend runs: draw calls and tfjs program classes (karma specs). */
import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';

/** Runs `f` on the active webgl backend and returns its result with the draw calls and programs it issued. */
export function recordPasses<T>(f: () => T): { result: T; draws: number; programs: string[] } {
  const backend = tf.backend() as MathBackendWebGL;
  const gl = backend.gpgpu.gl;
  const programs: string[] = [];
  let draws = 0;
  const drawElements = gl.drawElements;
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
    return { result: f(), draws, programs };
  } finally {
    gl.drawElements = drawElements;
    backend.runWebGLProgram = runWebGLProgram;
  }
}
