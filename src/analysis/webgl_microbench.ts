/**
 * WebGL2 microbenchmarks for the roofline of the webgl backend: a fragment shader of independent vec4
 * multiply-add chains (FMA peak) and a texel-copy shader (bandwidth), both rendering to RGBA32F textures as
 * tfjs-backend-webgl does. Timed with EXT_disjoint_timer_query_webgl2 when the browser exposes it, else
 * with wall time around the draw and a 1-pixel readback (includes submit and sync overhead, so it
 * under-reports the peaks). Browser-only (needs a WebGL2 context); the best of `repeats` runs is kept.
 */
import type { MicrobenchPeaks } from './peaks.js';

export interface WebGLPeakOptions {
  /** Render target side (pixels); each pixel runs one shader invocation. */
  size?: number;
  /** Loop iterations of the FMA shader (each is 8 independent vec4 multiply-adds). */
  fmaIterations?: number;
  repeats?: number;
}

export interface WebGLPeaks extends MicrobenchPeaks {
  timing: 'timer-query' | 'wall';
}

const CHAINS = 8;

const VERTEX = `#version 300 es
in vec2 pos;
void main() { gl_Position = vec4(pos, 0.0, 1.0); }`;

function fmaFragment(iterations: number): string {
  const decl = Array.from({ length: CHAINS }, (_, i) =>
    `vec4 a${i} = vec4(gl_FragCoord.x * 1e-6 + ${i}.0 * 1e-3, 0.5, 0.25, 0.125);`).join('\n  ');
  const body = Array.from({ length: CHAINS }, (_, i) => `a${i} = a${i} * m + c;`).join('\n    ');
  const sum = Array.from({ length: CHAINS }, (_, i) => `a${i}`).join(' + ');
  // m and c are uniforms so the compiler cannot fold the chains; the sum is written so they are kept.
  return `#version 300 es
precision highp float;
uniform vec4 m;
uniform vec4 c;
out vec4 color;
void main() {
  ${decl}
  for (int i = 0; i < ${iterations}; i++) {
    ${body}
  }
  color = ${sum};
}`;
}

const COPY_FRAGMENT = `#version 300 es
precision highp float;
uniform highp sampler2D src;
out vec4 color;
void main() { color = texelFetch(src, ivec2(gl_FragCoord.xy), 0); }`;

function compile(gl: WebGL2RenderingContext, fragment: string): WebGLProgram {
  const program = gl.createProgram()!;
  for (const [type, src] of [[gl.VERTEX_SHADER, VERTEX], [gl.FRAGMENT_SHADER, fragment]] as const) {
    const s = gl.createShader(type)!;
    gl.shaderSource(s, src);
    gl.compileShader(s);
    if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(`microbenchmark shader: ${gl.getShaderInfoLog(s)}`);
    gl.attachShader(program, s);
  }
  gl.bindAttribLocation(program, 0, 'pos');
  gl.linkProgram(program);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(`microbenchmark link: ${gl.getProgramInfoLog(program)}`);
  return program;
}

function floatTexture(gl: WebGL2RenderingContext, size: number): WebGLTexture {
  const t = gl.createTexture()!;
  gl.bindTexture(gl.TEXTURE_2D, t);
  gl.texStorage2D(gl.TEXTURE_2D, 1, gl.RGBA32F, size, size);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
  return t;
}

function now(): number {
  return performance.now();
}

interface TimerQueryExt {
  TIME_ELAPSED_EXT: number;
  GPU_DISJOINT_EXT: number;
}

/** Times `draw` (best of `repeats`), in ms. */
async function timeDraws(gl: WebGL2RenderingContext, draw: () => void, repeats: number):
  Promise<{ ms: number; timing: 'timer-query' | 'wall' }> {
  const ext = gl.getExtension('EXT_disjoint_timer_query_webgl2') as TimerQueryExt | null;
  const pixel = new Float32Array(4);
  const sync = () => gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.FLOAT, pixel);
  draw(); // warm-up: compile and upload
  sync();
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    let ms: number;
    if (ext != null) {
      const q = gl.createQuery()!;
      gl.beginQuery(ext.TIME_ELAPSED_EXT, q);
      draw();
      gl.endQuery(ext.TIME_ELAPSED_EXT);
      sync();
      while (!gl.getQueryParameter(q, gl.QUERY_RESULT_AVAILABLE)) await new Promise((res) => setTimeout(res, 1));
      const disjoint = gl.getParameter(ext.GPU_DISJOINT_EXT) as boolean;
      ms = disjoint ? Infinity : (gl.getQueryParameter(q, gl.QUERY_RESULT) as number) / 1e6;
      gl.deleteQuery(q);
    } else {
      const t0 = now();
      draw();
      sync();
      ms = now() - t0;
    }
    if (ms > 0) best = Math.min(best, ms);
  }
  return { ms: best, timing: ext != null ? 'timer-query' : 'wall' };
}

/**
 * Measures WebGL2 FMA throughput and texture copy bandwidth. Uses `gl` when given (it must have
 * EXT_color_buffer_float), else a fresh OffscreenCanvas context that is released afterwards.
 */
export async function measureWebGLPeaks(gl?: WebGL2RenderingContext, opts: WebGLPeakOptions = {}): Promise<WebGLPeaks> {
  const size = opts.size ?? 1024;
  const iterations = opts.fmaIterations ?? 256;
  const repeats = opts.repeats ?? 5;
  if (gl == null && typeof OffscreenCanvas === 'undefined') {
    throw new Error('measureWebGLPeaks: no WebGL2 context given and no OffscreenCanvas here (a browser API): pass a context');
  }
  const ctx = gl ?? (new OffscreenCanvas(1, 1).getContext('webgl2') as WebGL2RenderingContext | null);
  if (ctx == null) throw new Error('measureWebGLPeaks: no WebGL2 context');
  if (ctx.getExtension('EXT_color_buffer_float') == null) {
    throw new Error('measureWebGLPeaks: EXT_color_buffer_float is missing (float render targets)');
  }
  // A caller's context (the webgl backend's) keeps its state: tfjs leaves its last program's vertex array object
  // bound, and setting attribute 0 there pointed that program at our quad buffer, deleted afterwards, so the program
  // no longer drew (INVALID_OPERATION) and its ops returned stale outputs. Our own VAO, and the bindings restored.
  const saved = gl != null ? saveState(ctx) : null;
  ctx.activeTexture(ctx.TEXTURE0); // every texture binding below is on unit 0, which restoreState puts back
  const vao = ctx.createVertexArray()!;
  ctx.bindVertexArray(vao);
  const quad = ctx.createBuffer()!;
  ctx.bindBuffer(ctx.ARRAY_BUFFER, quad);
  ctx.bufferData(ctx.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), ctx.STATIC_DRAW);
  ctx.enableVertexAttribArray(0);
  ctx.vertexAttribPointer(0, 2, ctx.FLOAT, false, 0, 0);
  const src = floatTexture(ctx, size);
  const dst = floatTexture(ctx, size);
  const fbo = ctx.createFramebuffer()!;
  ctx.bindFramebuffer(ctx.FRAMEBUFFER, fbo);
  ctx.framebufferTexture2D(ctx.FRAMEBUFFER, ctx.COLOR_ATTACHMENT0, ctx.TEXTURE_2D, dst, 0);
  ctx.viewport(0, 0, size, size);
  const fma = compile(ctx, fmaFragment(iterations));
  const copy = compile(ctx, COPY_FRAGMENT);
  try {
    ctx.useProgram(fma);
    ctx.uniform4f(ctx.getUniformLocation(fma, 'm'), 0.999, 0.999, 0.999, 0.999);
    ctx.uniform4f(ctx.getUniformLocation(fma, 'c'), 1e-3, 1e-3, 1e-3, 1e-3);
    const f = await timeDraws(ctx, () => ctx.drawArrays(ctx.TRIANGLE_STRIP, 0, 4), repeats);
    ctx.useProgram(copy);
    ctx.activeTexture(ctx.TEXTURE0);
    ctx.bindTexture(ctx.TEXTURE_2D, src);
    ctx.uniform1i(ctx.getUniformLocation(copy, 'src'), 0);
    const c = await timeDraws(ctx, () => ctx.drawArrays(ctx.TRIANGLE_STRIP, 0, 4), repeats);
    const flops = size * size * iterations * CHAINS * 4 * 2;
    return {
      fmaTflops: flops / (f.ms * 1e-3) / 1e12,
      copyGBps: (2 * size * size * 16) / (c.ms * 1e-3) / 1e9,
      timing: f.timing,
    };
  } finally {
    ctx.bindFramebuffer(ctx.FRAMEBUFFER, null);
    for (const p of [fma, copy]) ctx.deleteProgram(p);
    for (const t of [src, dst]) ctx.deleteTexture(t);
    ctx.deleteFramebuffer(fbo);
    ctx.bindVertexArray(null);
    ctx.deleteVertexArray(vao);
    ctx.deleteBuffer(quad);
    if (saved != null) restoreState(ctx, saved);
    if (gl == null) ctx.getExtension('WEBGL_lose_context')?.loseContext();
  }
}

/** The bindings measureWebGLPeaks changes on a caller's context. */
interface GLState {
  vao: WebGLVertexArrayObject | null;
  program: WebGLProgram | null;
  arrayBuffer: WebGLBuffer | null;
  framebuffer: WebGLFramebuffer | null;
  viewport: Int32Array;
  activeTexture: number;
  texture0: WebGLTexture | null;
}

function saveState(gl: WebGL2RenderingContext): GLState {
  const activeTexture = gl.getParameter(gl.ACTIVE_TEXTURE) as number;
  gl.activeTexture(gl.TEXTURE0);
  const texture0 = gl.getParameter(gl.TEXTURE_BINDING_2D) as WebGLTexture | null;
  gl.activeTexture(activeTexture);
  return {
    vao: gl.getParameter(gl.VERTEX_ARRAY_BINDING) as WebGLVertexArrayObject | null,
    program: gl.getParameter(gl.CURRENT_PROGRAM) as WebGLProgram | null,
    arrayBuffer: gl.getParameter(gl.ARRAY_BUFFER_BINDING) as WebGLBuffer | null,
    framebuffer: gl.getParameter(gl.FRAMEBUFFER_BINDING) as WebGLFramebuffer | null,
    viewport: gl.getParameter(gl.VIEWPORT) as Int32Array,
    activeTexture, texture0,
  };
}

function restoreState(gl: WebGL2RenderingContext, s: GLState): void {
  gl.bindVertexArray(s.vao);
  gl.useProgram(s.program);
  gl.bindBuffer(gl.ARRAY_BUFFER, s.arrayBuffer);
  gl.bindFramebuffer(gl.FRAMEBUFFER, s.framebuffer);
  gl.viewport(s.viewport[0], s.viewport[1], s.viewport[2], s.viewport[3]);
  gl.activeTexture(gl.TEXTURE0);
  gl.bindTexture(gl.TEXTURE_2D, s.texture0);
  gl.activeTexture(s.activeTexture);
}
