/**
 * One draw call that writes several textures at once (WebGL 2 multiple render targets), which tfjs's
 * runWebGLProgram cannot do: its shader header declares a single `outputColor` and it binds one
 * attachment. The program is compiled through the backend's GPGPUContext (tfjs's vertex shader, quad
 * and VAO), the outputs are ordinary packed backend tensors (so disposal, texture pooling and
 * tf.memory() work as for any tfjs output), and every piece of GL state tfjs relies on between its
 * own draws is put back afterwards: color attachments, draw buffers, program, VAO, viewport, scissor.
 */
import { env, type TensorInfo } from '@tensorflow/tfjs-core';
import type { GPGPUContext, MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import { compileFragmentShader } from './webgl_rules.js';

export interface MultiTargetProgram {
  /** Complete GLSL ES 3.00 fragment shader with `layout(location = i) out vec4` for i < outputs. */
  source: string;
  /** Sampler uniform names, in the order of the inputs passed to runMultiTargetPass. */
  inputNames: string[];
}

interface Compiled {
  program: WebGLProgram & { vao: WebGLVertexArrayObject };
  /** Null until the program is first used for a draw (see ENGINE_COMPILE_ONLY below). */
  samplers: Array<WebGLUniformLocation | null> | null;
}

// Per GPGPU context (a new context means new GL objects), keyed by the shader text, which bakes in
// everything that varies.
const programCaches = new WeakMap<GPGPUContext, Map<string, Compiled>>();

function compile(gpgpu: GPGPUContext, p: MultiTargetProgram): Compiled {
  let cache = programCaches.get(gpgpu);
  if (cache == null) { cache = new Map(); programCaches.set(gpgpu, cache); }
  let compiled = cache.get(p.source);
  if (compiled == null) {
    const shader = compileFragmentShader(gpgpu.gl, p.source);
    compiled = { program: gpgpu.createProgram(shader) as Compiled['program'], samplers: null };
    cache.set(p.source, compiled);
  }
  return compiled;
}

/**
 * VAO and sampler locations, as tfjs sets them up: not while ENGINE_COMPILE_ONLY is on (tfjs's
 * parallel-compile warm-up), when querying the program would wait for its link.
 */
function finishSetup(gpgpu: GPGPUContext, p: MultiTargetProgram, c: Compiled): Array<WebGLUniformLocation | null> {
  if (c.samplers == null) {
    gpgpu.buildVao(c.program);
    c.samplers = p.inputNames.map((n) => gpgpu.getUniformLocationNoThrow(c.program, n));
  }
  return c.samplers;
}

/** The largest number of render targets one draw may write here. */
export function maxRenderTargets(gpgpu: GPGPUContext): number {
  const gl = gpgpu.gl as WebGL2RenderingContext;
  return Math.min(gl.getParameter(gl.MAX_DRAW_BUFFERS) as number, gl.getParameter(gl.MAX_COLOR_ATTACHMENTS) as number);
}

/**
 * New packed float32 backend tensors of `shape` with textures allocated (contents undefined): the
 * render targets of a multi-target pass. The caller disposes them like any kernel intermediate.
 */
export function allocatePackedOutputs(backend: MathBackendWebGL, shape: number[], count: number): TensorInfo[] {
  return Array.from({ length: count }, () => {
    const info = backend.makeTensorInfo(shape, 'float32');
    backend.texData.get(info.dataId).isPacked = true;
    backend.uploadToGPU(info.dataId);
    return info;
  });
}

/** The backend's kernel timers (tf.time's kernelMs), which runWebGLProgram feeds per program. */
interface Timers {
  activeTimers: Array<{ name: string; query: Promise<number> }> | null;
  startTimer(): unknown; endTimer(q: unknown): unknown; getQueryTime(q: unknown): Promise<number>;
}

/**
 * Runs `p` over the texels of `outputs` (all of one texture shape), one draw call, timed like a
 * runWebGLProgram call when the backend's kernel timers are active (tf.time / tf.profile).
 */
export function runMultiTargetPass(backend: MathBackendWebGL, p: MultiTargetProgram, inputs: TensorInfo[],
  outputs: TensorInfo[]): void {
  timed(backend, 'MultiTargetPass', () => draw(backend, p, inputs, outputs));
}

/** Runs `f`, timed under `name` when the backend's kernel timers are active (tf.time / tf.profile). */
function timed(backend: MathBackendWebGL, name: string, f: () => void): void {
  const timers = backend as unknown as Timers;
  if (timers.activeTimers == null) { f(); return; }
  const query = timers.startTimer();
  f();
  timers.activeTimers.push({ name, query: timers.getQueryTime(timers.endTimer(query)) });
}

function draw(backend: MathBackendWebGL, p: MultiTargetProgram, inputs: TensorInfo[], outputs: TensorInfo[]): void {
  const gpgpu = backend.gpgpu;
  const gl = gpgpu.gl as WebGL2RenderingContext;
  if (inputs.length !== p.inputNames.length) {
    throw new Error(`runMultiTargetPass: ${inputs.length} inputs for samplers ${p.inputNames.join(', ')}`);
  }
  const texture = (t: TensorInfo): WebGLTexture => {
    const tex = backend.texData.get(t.dataId).texture;
    if (tex == null) throw new Error(`runMultiTargetPass: tensor of shape [${t.shape}] has no texture`);
    return tex.texture;
  };
  const texShapes = outputs.map((o) => backend.texData.get(o.dataId).texShape);
  const [rows, cols] = texShapes[0] ?? [0, 0];
  if (texShapes.some((s) => s == null || s[0] !== rows || s[1] !== cols)) {
    throw new Error('runMultiTargetPass: outputs must be allocated textures of one shape');
  }
  const compiled = compile(gpgpu, p);
  // Compile-only warm-up: like runWebGLProgram, compile and leave the outputs unwritten.
  if (env().getBool('ENGINE_COMPILE_ONLY')) return;
  const program = compiled.program;
  const previousProgram = gpgpu.program;
  const previousVao = gpgpu.getVertexArray();
  const viewport = gl.getParameter(gl.VIEWPORT) as Int32Array;
  const scissor = gl.getParameter(gl.SCISSOR_BOX) as Int32Array;
  const width = Math.ceil(cols / 2);
  const height = Math.ceil(rows / 2);
  gl.bindFramebuffer(gl.FRAMEBUFFER, gpgpu.framebuffer);
  outputs.forEach((o, i) => gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0 + i, gl.TEXTURE_2D,
    texture(o), 0));
  gl.drawBuffers(outputs.map((_, i) => gl.COLOR_ATTACHMENT0 + i));
  gl.viewport(0, 0, width, height);
  gl.scissor(0, 0, width, height);
  try {
    const samplers = finishSetup(gpgpu, p, compiled);
    gpgpu.setProgram(program);
    gpgpu.bindVertexArray(program.vao);
    inputs.forEach((input, i) => {
      const loc = samplers[i];
      if (loc == null) return; // optimized away by the compiler
      gpgpu.setInputMatrixTexture(texture(input), loc, i);
    });
    gpgpu.executeProgram();
  } finally {
    // Back to tfjs's single-output framebuffer: extra attachments off, attachment 0 = tfjs's current output.
    for (let i = 1; i < outputs.length; i++) {
      gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0 + i, gl.TEXTURE_2D, null, 0);
    }
    gl.drawBuffers([gl.COLOR_ATTACHMENT0]);
    const tfjsOutput = gpgpu.outputTexture;
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, tfjsOutput, 0);
    gl.viewport(viewport[0], viewport[1], viewport[2], viewport[3]);
    gl.scissor(scissor[0], scissor[1], scissor[2], scissor[3]);
    gpgpu.bindVertexArray(previousVao);
    if (previousProgram != null) gpgpu.setProgram(previousProgram);
  }
}

/** A texel rectangle of `source`'s texture copied to (x, y) of the destination's texture. */
export interface TexelCopy { source: TensorInfo; x: number; y: number; width: number; height: number }

// A framebuffer of our own to read copy sources from, per GPGPU context: tfjs's framebuffer stays the
// draw side, so its read buffer is never touched.
const readFramebuffers = new WeakMap<GPGPUContext, WebGLFramebuffer>();

/**
 * Copies texel rectangles of several textures into `dest`'s texture with gl.blitFramebuffer (a
 * framebuffer copy, no draw call; NEAREST, same internal format on both sides since all are tfjs
 * textures of one type). Each source rectangle starts at its texture's origin. Timed like a program under
 * tf.time; nothing is copied under ENGINE_COMPILE_ONLY (nothing was drawn either). Afterwards tfjs's
 * framebuffer has its own output texture as attachment 0 again, and the read / draw framebuffer bindings
 * and the scissor box (the scissor test, which tfjs keeps on, applies to blits too) are as before.
 */
export function copyTexelRects(backend: MathBackendWebGL, dest: TensorInfo, copies: TexelCopy[]): void {
  if (env().getBool('ENGINE_COMPILE_ONLY')) return;
  timed(backend, 'TexelBlits', () => blit(backend, dest, copies));
}

function blit(backend: MathBackendWebGL, dest: TensorInfo, copies: TexelCopy[]): void {
  const gpgpu = backend.gpgpu;
  const gl = gpgpu.gl as WebGL2RenderingContext;
  const texture = (t: TensorInfo): WebGLTexture => {
    const tex = backend.texData.get(t.dataId).texture;
    if (tex == null) throw new Error(`copyTexelRects: tensor of shape [${t.shape}] has no texture`);
    return tex.texture;
  };
  let readFramebuffer = readFramebuffers.get(gpgpu);
  if (readFramebuffer == null) {
    readFramebuffer = gl.createFramebuffer()!;
    readFramebuffers.set(gpgpu, readFramebuffer);
  }
  // Client-side state in Chromium: no GPU round trip.
  const scissor = gl.getParameter(gl.SCISSOR_BOX) as Int32Array;
  const previousRead = gl.getParameter(gl.READ_FRAMEBUFFER_BINDING) as WebGLFramebuffer | null;
  const previousDraw = gl.getParameter(gl.DRAW_FRAMEBUFFER_BINDING) as WebGLFramebuffer | null;
  const texShape = backend.texData.get(dest.dataId).texShape;
  if (texShape == null) throw new Error(`copyTexelRects: destination of shape [${dest.shape}] has no texture`);
  const [rows, cols] = texShape;
  gl.bindFramebuffer(gl.DRAW_FRAMEBUFFER, gpgpu.framebuffer);
  gl.framebufferTexture2D(gl.DRAW_FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture(dest), 0);
  gl.bindFramebuffer(gl.READ_FRAMEBUFFER, readFramebuffer);
  gl.scissor(0, 0, Math.ceil(cols / 2), Math.ceil(rows / 2));
  try {
    for (const c of copies) {
      gl.framebufferTexture2D(gl.READ_FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture(c.source), 0);
      gl.blitFramebuffer(0, 0, c.width, c.height, c.x, c.y, c.x + c.width, c.y + c.height, gl.COLOR_BUFFER_BIT,
        gl.NEAREST);
    }
  } finally {
    // Our framebuffer keeps no recycled texture attached; tfjs's gets its own output back as attachment 0;
    // then the read and draw bindings and the scissor box as they were.
    gl.framebufferTexture2D(gl.READ_FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, null, 0);
    gl.framebufferTexture2D(gl.DRAW_FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, gpgpu.outputTexture, 0);
    gl.bindFramebuffer(gl.READ_FRAMEBUFFER, previousRead);
    gl.bindFramebuffer(gl.DRAW_FRAMEBUFFER, previousDraw);
    gl.scissor(scissor[0], scissor[1], scissor[2], scissor[3]);
  }
}
