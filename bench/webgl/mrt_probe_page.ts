/**
 * Browser side of `npx tsx bench/webgl/mrt_probe.ts`: raw WebGL 2 (no tfjs) 1x1-layer matmuls
 * out[M, N] = A[M, K] B[K, N] over RGBA32F textures, one variant per fragment shape, to measure on
 * SwiftShader whether multiple render targets (more outputs per fragment, fewer texel fetches per
 * multiply-add) pay off before building them into the block passes.
 *
 * A texel = 2 pixels x 2 input channels (tfjs's packed layout); B^T texel = 2 outputs x 2 inputs.
 * A fragment covers P pixel pairs x QB output-channel pairs and writes P * QB texels, one per target
 * (P = QB = 1 is the single-output pass). `arrayInput` reads A from a 2D-array texture layer instead.
 */
import { median } from '../../src/analysis/stats.js';

export interface ProbeArgs { m: number; k: number; n: number; variants: Array<{ p: number; qb: number; arrayInput?: boolean; branch?: boolean; transposed?: boolean }>; reps: number; samples: number }

const cpuMs = (): Promise<number> =>
  (globalThis as unknown as { __browserCpuMs?: () => Promise<number> }).__browserCpuMs?.() ?? Promise.resolve(NaN);

const VS = `#version 300 es
in vec2 pos;
void main() { gl_Position = vec4(pos, 0.0, 1.0); }`;

function lit(x: number): string { const s = String(x); return s.includes('.') || s.includes('e') ? s : `${s}.0`; }

/**
 * Single-output fragment whose A comes from one of two textures, chosen per fragment by which half of
 * the rows it is in (uniform within a 2x2 quad except at the boundary): does SwiftShader run only the
 * taken side of the branch?
 */
function branchFragment(kPairs: number, aw: number, ah: number, bw: number, bh: number): string {
  const loop = (tex: string, rowExpr: string) => `
    for (int t = 0; t < ${kPairs}; t++) {
      vec4 a = texture(${tex}, vec2((ft + 0.5) * ${lit(1 / aw)}, (float(${rowExpr}) + 0.5) * ${lit(1 / ah)}));
      vec4 b = texture(B, vec2((ft + 0.5) * ${lit(1 / bw)}, (float(px) + 0.5) * ${lit(1 / bh)}));
      acc += a.xxzz * b.xzxz + a.yyww * b.ywyw;
      ft += 1.0;
    }`;
  return `#version 300 es
precision highp float;
precision highp int;
uniform sampler2D A;
uniform sampler2D A2;
uniform sampler2D B;
layout(location = 0) out vec4 o0;
void main() {
  ivec2 frag = ivec2(gl_FragCoord.xy);
  int px = frag.x; int py = frag.y;
  vec4 acc = vec4(0.0);
  float ft = 0.0;
  if (py < ${ah / 2}) { ${loop('A', 'py')} } else { ${loop('A2', 'py')} }
  o0 = acc;
}`;
}

/**
 * Single-output fragment reading A transposed (texel (x = pixel pair, y = channel pair)) and B untransposed
 * (x = output pair, y = input pair): the 4 lanes of a 2x2 quad then read neighbouring texels.
 */
function transposedFragment(kPairs: number, aw: number, ah: number, bw: number, bh: number): string {
  return `#version 300 es
precision highp float;
precision highp int;
uniform sampler2D A;
uniform sampler2D B;
layout(location = 0) out vec4 o0;
void main() {
  ivec2 frag = ivec2(gl_FragCoord.xy);
  int px = frag.x; int py = frag.y;
  vec4 acc = vec4(0.0);
  float ft = 0.0;
  for (int t = 0; t < ${kPairs}; t++) {
    vec4 a = texture(A, vec2((float(py) + 0.5) * ${lit(1 / ah)}, (ft + 0.5) * ${lit(1 / aw)}));
    vec4 b = texture(B, vec2((float(px) + 0.5) * ${lit(1 / bh)}, (ft + 0.5) * ${lit(1 / bw)}));
    acc += a.xxzz * b.xzxz + a.yyww * b.ywyw;
    ft += 1.0;
  }
  o0 = acc;
}`;
}

function fragment(p: number, qb: number, kPairs: number, aw: number, ah: number, bw: number, bh: number, arrayInput: boolean): string {
  const outs: string[] = [];
  for (let i = 0; i < p * qb; i++) outs.push(`layout(location = ${i}) out vec4 o${i};`);
  const lines: string[] = [];
  for (let i = 0; i < p * qb; i++) lines.push(`vec4 acc${i} = vec4(0.0);`);
  const step: string[] = [];
  for (let a = 0; a < p; a++) {
    step.push(arrayInput
      ? `vec4 a${a} = texture(A, vec3((ft + 0.5) * ${lit(1 / aw)}, (float(py * ${p} + ${a}) + 0.5) * ${lit(1 / ah)}, 0.0));`
      : `vec4 a${a} = texture(A, vec2((ft + 0.5) * ${lit(1 / aw)}, (float(py * ${p} + ${a}) + 0.5) * ${lit(1 / ah)}));`);
  }
  for (let b = 0; b < qb; b++) {
    step.push(`vec4 b${b} = texture(B, vec2((ft + 0.5) * ${lit(1 / bw)}, (float(px * ${qb} + ${b}) + 0.5) * ${lit(1 / bh)}));`);
  }
  for (let a = 0; a < p; a++) for (let b = 0; b < qb; b++) {
    step.push(`acc${a * qb + b} += a${a}.xxzz * b${b}.xzxz + a${a}.yyww * b${b}.ywyw;`);
  }
  return `#version 300 es
precision highp float;
precision highp int;
precision highp sampler2DArray;
uniform ${arrayInput ? 'sampler2DArray' : 'sampler2D'} A;
uniform sampler2D B;
${outs.join('\n')}
void main() {
  ivec2 frag = ivec2(gl_FragCoord.xy);
  int px = frag.x; int py = frag.y;
  ${lines.join('\n  ')}
  float ft = 0.0;
  for (int t = 0; t < ${kPairs}; t++) {
    ${step.join('\n    ')}
    ft += 1.0;
  }
  ${Array.from({ length: p * qb }, (_, i) => `o${i} = acc${i};`).join('\n  ')}
}`;
}

function texture(gl: WebGL2RenderingContext, w: number, h: number, data: Float32Array | null, layers = 0): WebGLTexture {
  const t = gl.createTexture()!;
  const target = layers > 0 ? gl.TEXTURE_2D_ARRAY : gl.TEXTURE_2D;
  gl.bindTexture(target, t);
  for (const [k, v] of [[gl.TEXTURE_MIN_FILTER, gl.NEAREST], [gl.TEXTURE_MAG_FILTER, gl.NEAREST],
    [gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE], [gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE]]) gl.texParameteri(target, k, v);
  if (layers > 0) gl.texImage3D(target, 0, gl.RGBA32F, w, h, layers, 0, gl.RGBA, gl.FLOAT, data);
  else gl.texImage2D(target, 0, gl.RGBA32F, w, h, 0, gl.RGBA, gl.FLOAT, data);
  return t;
}

(globalThis as unknown as { __run: (a: ProbeArgs) => Promise<unknown> }).__run = async (args: ProbeArgs) => {
  const canvas = document.createElement('canvas');
  const gl = canvas.getContext('webgl2')!;
  gl.getExtension('EXT_color_buffer_float');
  const limits = { MAX_DRAW_BUFFERS: gl.getParameter(gl.MAX_DRAW_BUFFERS), MAX_COLOR_ATTACHMENTS: gl.getParameter(gl.MAX_COLOR_ATTACHMENTS) };
  const { m, k, n } = args;
  const kPairs = k / 2;
  const rand = (len: number) => Float32Array.from({ length: len }, () => Math.random() - 0.5);
  const aw = kPairs; const ah = m / 2; const bw = kPairs; const bh = n / 2;
  const aVals = rand(aw * ah * 4); const bVals = rand(bw * bh * 4);
  const tA = texture(gl, aw, ah, aVals); const tA3 = texture(gl, aw, ah, aVals, 1); const tB = texture(gl, bw, bh, bVals);
  // Transposed copies (texel grids swapped, texel contents kept): for the `transposed` variant.
  const transposeTexels = (v: Float32Array, w: number, h: number) => {
    const out = new Float32Array(v.length);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out.set(v.subarray((y * w + x) * 4, (y * w + x) * 4 + 4), (x * h + y) * 4);
    return out;
  };
  const tAT = texture(gl, ah, aw, transposeTexels(aVals, aw, ah)); const tBT = texture(gl, bh, bw, transposeTexels(bVals, bw, bh));
  const vs = gl.createShader(gl.VERTEX_SHADER)!; gl.shaderSource(vs, VS); gl.compileShader(vs);
  const vbo = gl.createBuffer(); gl.bindBuffer(gl.ARRAY_BUFFER, vbo);
  gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
  const fb = gl.createFramebuffer(); gl.bindFramebuffer(gl.FRAMEBUFFER, fb);
  const results: unknown[] = [];
  for (const v of args.variants) {
    const { p, qb } = v;
    const fs = gl.createShader(gl.FRAGMENT_SHADER)!;
    gl.shaderSource(fs, v.branch ? branchFragment(kPairs, aw, ah, bw, bh) : v.transposed ?
      transposedFragment(kPairs, aw, ah, bw, bh) : fragment(p, qb, kPairs, aw, ah, bw, bh, !!v.arrayInput));
    gl.compileShader(fs);
    if (!gl.getShaderParameter(fs, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(fs) ?? 'compile');
    const prog = gl.createProgram()!; gl.attachShader(prog, vs); gl.attachShader(prog, fs); gl.linkProgram(prog);
    if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(prog) ?? 'link');
    gl.useProgram(prog);
    const loc = gl.getAttribLocation(prog, 'pos'); gl.enableVertexAttribArray(loc); gl.vertexAttribPointer(loc, 2, gl.FLOAT, false, 0, 0);
    const ow = bh / qb; const oh = ah / p; // fragments
    const outs = Array.from({ length: p * qb }, () => texture(gl, ow, oh, null));
    gl.activeTexture(gl.TEXTURE0); if (v.arrayInput) gl.bindTexture(gl.TEXTURE_2D_ARRAY, tA3); else gl.bindTexture(gl.TEXTURE_2D, tA);
    gl.activeTexture(gl.TEXTURE1); gl.bindTexture(gl.TEXTURE_2D, v.transposed ? tBT : tB);
    if (v.transposed) { gl.activeTexture(gl.TEXTURE0); gl.bindTexture(gl.TEXTURE_2D, tAT); }
    gl.uniform1i(gl.getUniformLocation(prog, 'A'), 0); gl.uniform1i(gl.getUniformLocation(prog, 'B'), 1);
    if (v.branch) {
      gl.activeTexture(gl.TEXTURE2); gl.bindTexture(gl.TEXTURE_2D, tA);
      gl.uniform1i(gl.getUniformLocation(prog, 'A2'), 2);
    }
    outs.forEach((t, i) => gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0 + i, gl.TEXTURE_2D, t, 0));
    gl.drawBuffers(outs.map((_, i) => gl.COLOR_ATTACHMENT0 + i));
    gl.viewport(0, 0, ow, oh);
    const status = gl.checkFramebufferStatus(gl.FRAMEBUFFER);
    const fence = async () => { const px = new Float32Array(4); gl.readBuffer(gl.COLOR_ATTACHMENT0); gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.FLOAT, px); return px; };
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4); await fence();
    // check one output value against CPU
    const out0 = new Float32Array(4); gl.readBuffer(gl.COLOR_ATTACHMENT0); gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.FLOAT, out0);
    let ref = 0; for (let t = 0; t < kPairs; t++) ref += aVals[t * 4 + 0] * bVals[t * 4 + 0] + aVals[t * 4 + 1] * bVals[t * 4 + 1];
    const err = gl.getError(); if (err !== 0) console.log(`gl error ${err}`);
    const wall: number[] = []; const cpu: number[] = [];
    for (let s = 0; s < args.samples; s++) {
      const c0 = await cpuMs(); const t0 = performance.now();
      for (let r = 0; r < args.reps; r++) gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
      await fence();
      const t1 = performance.now(); const c1 = await cpuMs();
      wall.push((t1 - t0) / args.reps); cpu.push((c1 - c0) / args.reps);
    }
    const fetchesPerMac = (p + qb) / (8 * p * qb);
    results.push({ p, qb, targets: p * qb, arrayInput: !!v.arrayInput, branch: !!v.branch, transposed: !!v.transposed, status: status === gl.FRAMEBUFFER_COMPLETE,
      check: [out0[0], ref], macPerFetch: 1 / fetchesPerMac, wallMs: median(wall), cpuMs: median(cpu), cpu });
    console.log(JSON.stringify(results[results.length - 1]));
    outs.forEach((t, i) => { gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0 + i, gl.TEXTURE_2D, null, 0); gl.deleteTexture(t); });
  }
  return { limits, results };
};
