/**
 * Probe: how fast can a WGSL 7x7 depthwise conv (ConvNeXt's, NHWC, zero padding 3, + bias) run at N=32 on this
 * device, and does the order in which workgroups walk the image matter? The fused blocks' conv + norm dispatches
 * take 0.93 ms of ConvNeXt-T's 9.5 ms at N=32 on an H200 against a 0.14 ms memory floor (BENCHMARKS.md), and
 * stock tfjs's DepthwiseConv2DVec4 alone is as slow, so the conv itself (not the LayerNorm) is measured here:
 *
 * - flat:    a workgroup takes `strips` consecutive 1 x sw pixel strips of the flattened [N, H, W] pixels, all
 *            channels (the fused kernel's tile order): ~1.5 image rows per workgroup, each input row fetched by
 *            ~6 workgroups;
 * - block:   a workgroup takes a th x tw pixel block, all channels, the same per-thread strip code: more output
 *            rows per input row fetched;
 * - staged:  a th x tw pixel block of cs channel vec4s, its (th + 6) x (tw + 6) input halo staged in workgroup
 *            memory (zero padded), the strips read from there.
 *
 *   node --import tsx bench/dwconv_probe.ts [--smoke] [--json FILE]
 *
 * Every configuration is checked against a CPU float64 conv on sampled outputs before it is timed.
 */
import { parseCommandLine } from './support/args.js';
import { writeJsonFile } from './support/json_output.js';
import { DWCONV_PROBE_COMMAND } from './support/bench_args.js';

const { smoke, jsonFile } = parseCommandLine(DWCONV_PROBE_COMMAND);

const { setupNodeWebGPU } = await import('../src/node/webgpu_setup.js');
await setupNodeWebGPU({ preferSwiftShader: true });
const { measureDevicePeaks, timeDispatch } = await import('../src/analysis/microbench.js');

const { requestProbeDevice } = await import('./support/webgpu_bench.js');
const device = await requestProbeDevice();

const K = 7;
const PAD = 3;

interface Shape { label: string; n: number; h: number; w: number; c: number }
type Config =
  | { kind: 'flat'; sw: number; strips: number; threads: number }
  | { kind: 'block'; sw: number; th: number; tw: number; threads: number }
  | { kind: 'staged'; sw: number; th: number; tw: number; cs: number; threads: number };

const describe = (c: Config) => c.kind === 'flat' ? `flat sw${c.sw} ${c.strips} strips, ${c.threads} thr` :
  c.kind === 'block' ? `block ${c.th}x${c.tw} sw${c.sw}, ${c.threads} thr` :
    `staged ${c.th}x${c.tw}x${c.cs * 4}ch sw${c.sw}, ${c.threads} thr`;

function workgroups(s: Shape, c: Config): number {
  const c4 = s.c / 4;
  if (c.kind === 'flat') return Math.ceil((s.n * s.h * s.w / c.sw) / c.strips);
  const blocks = s.n * Math.ceil(s.h / c.th) * Math.ceil(s.w / c.tw);
  return c.kind === 'block' ? blocks : blocks * (c4 / c.cs);
}

/** One strip's taps: sw accumulators from k + sw - 1 input vec4s per row, `load(dy, t)` the input at column t. */
function stripTaps(sw: number, load: (dy: number, t: number) => string, rowOk: (dy: number) => string,
  filter: (tap: number) => string): string {
  const cols = Array.from({ length: K + sw - 1 }, (_, t) => t);
  const quad = Array.from({ length: sw }, (_, q) => q);
  return Array.from({ length: K }, (_, ky) => `if (${rowOk(ky)}) {
      ${cols.map((t) => `let x${t} = ${load(ky, t)};`).join(' ')}
      ${Array.from({ length: K }, (_, kx) => `{ let f = ${filter(ky * K + kx)}; ${quad.map((q) => `acc${q} += x${q + kx} * f;`).join(' ')} }`).join('\n      ')}
    }`).join('\n    ');
}

function shader(s: Shape, c: Config): string {
  const { h, w } = s;
  const c4 = s.c / 4;
  const quad = Array.from({ length: c.sw }, (_, q) => q);
  const head = `
@group(0) @binding(0) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> F: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> Y: array<vec4<f32>>;`;
  const store = (cv: string) => quad.map((q) => `Y[((n * ${h}u + oy) * ${w}u + ox0 + ${q}u) * ${c4}u + ${cv}] = acc${q};`).join(' ');
  const init = (cv: string) => `let bias = B[${cv}]; ${quad.map((q) => `var acc${q} = bias;`).join(' ')}`;
  const globalLoad = (dy: number, t: number) =>
    `select(vec4<f32>(0.0), X[((n * ${h}u + oy + ${dy}u - ${PAD}u) * ${w}u + ox0 + ${t}u - ${PAD}u) * ${c4}u + cv], ` +
    `ox0 + ${t}u >= ${PAD}u && ox0 + ${t}u < ${w + PAD}u)`;
  const globalRowOk = (dy: number) => `oy + ${dy}u >= ${PAD}u && oy + ${dy}u < ${h + PAD}u`;
  const filter = (cv: string) => (tap: number) => `F[${tap * c4}u + ${cv}]`;
  if (c.kind === 'flat') {
    const stripsPerRow = w / c.sw;
    return `${head}
@compute @workgroup_size(${c.threads})
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  for (var e = lid; e < ${c.strips * c4}u; e += ${c.threads}u) {
    let g = wg.x * ${c.strips}u + e / ${c4}u;
    if (g >= ${s.n * h * stripsPerRow}u) { break; }
    let cv = e % ${c4}u;
    let n = g / ${h * stripsPerRow}u;
    let oy = (g / ${stripsPerRow}u) % ${h}u;
    let ox0 = (g % ${stripsPerRow}u) * ${c.sw}u;
    ${init('cv')}
    ${stripTaps(c.sw, globalLoad, globalRowOk, filter('cv'))}
    ${store('cv')}
  }
}`;
  }
  const bx = Math.ceil(w / c.tw);
  const by = Math.ceil(h / c.th);
  const blockIndex = (wgId: string) => `
  let bxi = ${wgId} % ${bx}u;
  let byi = (${wgId} / ${bx}u) % ${by}u;
  let n = ${wgId} / ${bx * by}u;
  let y0 = byi * ${c.th}u;
  let x0 = bxi * ${c.tw}u;`;
  const stripsPerRow = c.tw / c.sw;
  if (c.kind === 'block') {
    return `${head}
@compute @workgroup_size(${c.threads})
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  ${blockIndex('wg.x')}
  for (var e = lid; e < ${c.th * stripsPerRow * c4}u; e += ${c.threads}u) {
    let cv = e % ${c4}u;
    let si = e / ${c4}u;
    let oy = y0 + si / ${stripsPerRow}u;
    let ox0 = x0 + (si % ${stripsPerRow}u) * ${c.sw}u;
    if (oy < ${h}u && ox0 < ${w}u) {
      ${init('cv')}
      ${stripTaps(c.sw, globalLoad, globalRowOk, filter('cv'))}
      ${store('cv')}
    }
  }
}`;
  }
  const hh = c.th + K - 1;
  const hw = c.tw + K - 1;
  const cs = c.cs;
  return `${head}
var<workgroup> S: array<vec4<f32>, ${hh * hw * cs}>;
@compute @workgroup_size(${c.threads})
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let cb = wg.x % ${c4 / cs}u;
  let blk = wg.x / ${c4 / cs}u;
  ${blockIndex('blk')}
  // Stage the zero-padded input halo of this block's channel slice.
  for (var e = lid; e < ${hh * hw * cs}u; e += ${c.threads}u) {
    let lc = e % ${cs}u;
    let px = (e / ${cs}u) % ${hw}u;
    let py = e / ${cs * hw}u;
    let iy = y0 + py;
    let ix = x0 + px;
    var v = vec4<f32>(0.0);
    if (iy >= ${PAD}u && iy < ${h + PAD}u && ix >= ${PAD}u && ix < ${w + PAD}u) {
      v = X[((n * ${h}u + iy - ${PAD}u) * ${w}u + ix - ${PAD}u) * ${c4}u + cb * ${cs}u + lc];
    }
    S[e] = v;
  }
  workgroupBarrier();
  for (var e = lid; e < ${c.th * stripsPerRow * cs}u; e += ${c.threads}u) {
    let lc = e % ${cs}u;
    let si = e / ${cs}u;
    let ly = si / ${stripsPerRow}u;
    let lx = (si % ${stripsPerRow}u) * ${c.sw}u;
    let oy = y0 + ly;
    let ox0 = x0 + lx;
    let cv = cb * ${cs}u + lc;
    if (oy < ${h}u && ox0 < ${w}u) {
      ${init('cv')}
      ${stripTaps(c.sw, (dy, t) => `S[((ly + ${dy}u) * ${hw}u + lx + ${t}u) * ${cs}u + lc]`, () => 'true', filter('cv'))}
      ${store('cv')}
    }
  }
}`;
}

function rand(n: number, seed: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; out[i] = s / 2 ** 31 - 1; }
  return out;
}

const SHAPES: Array<{ shape: Shape; configs: Config[] }> = smoke ? [
  { shape: { label: 'smoke 2x9x8x12', n: 2, h: 9, w: 8, c: 12 }, configs: [
    { kind: 'flat', sw: 4, strips: 5, threads: 64 },
    { kind: 'block', sw: 4, th: 4, tw: 8, threads: 64 },
    { kind: 'staged', sw: 4, th: 4, tw: 8, cs: 1, threads: 32 },
  ] },
] : [
  { shape: { label: '56x56x96', n: 32, h: 56, w: 56, c: 96 }, configs: [
    { kind: 'flat', sw: 4, strips: 24, threads: 256 },
    { kind: 'flat', sw: 4, strips: 16, threads: 128 },
    { kind: 'block', sw: 4, th: 4, tw: 56, threads: 256 },
    { kind: 'block', sw: 4, th: 8, tw: 28, threads: 256 },
    { kind: 'block', sw: 4, th: 8, tw: 8, threads: 256 },
    { kind: 'block', sw: 4, th: 2, tw: 56, threads: 256 },
    { kind: 'flat', sw: 8, strips: 12, threads: 288 },
    { kind: 'flat', sw: 7, strips: 12, threads: 288 },
    { kind: 'flat', sw: 2, strips: 24, threads: 288 },
    { kind: 'block', sw: 8, th: 8, tw: 8, threads: 192 },
    { kind: 'staged', sw: 4, th: 8, tw: 8, cs: 8, threads: 128 },
    { kind: 'staged', sw: 4, th: 8, tw: 16, cs: 4, threads: 128 },
    { kind: 'staged', sw: 4, th: 8, tw: 28, cs: 2, threads: 112 },
    { kind: 'staged', sw: 4, th: 4, tw: 56, cs: 2, threads: 112 },
  ] },
  { shape: { label: '28x28x192', n: 32, h: 28, w: 28, c: 192 }, configs: [
    { kind: 'flat', sw: 4, strips: 12, threads: 256 },
    { kind: 'block', sw: 4, th: 4, tw: 28, threads: 256 },
    { kind: 'block', sw: 4, th: 7, tw: 28, threads: 256 },
    { kind: 'block', sw: 4, th: 2, tw: 28, threads: 256 },
    { kind: 'flat', sw: 7, strips: 4, threads: 192 },
    { kind: 'flat', sw: 4, strips: 4, threads: 192 },
    { kind: 'flat', sw: 2, strips: 4, threads: 192 },
    { kind: 'block', sw: 4, th: 4, tw: 4, threads: 192 },
    { kind: 'staged', sw: 4, th: 4, tw: 28, cs: 4, threads: 112 },
    { kind: 'staged', sw: 4, th: 7, tw: 28, cs: 4, threads: 196 },
    { kind: 'staged', sw: 4, th: 7, tw: 28, cs: 2, threads: 98 },
    { kind: 'staged', sw: 4, th: 14, tw: 28, cs: 2, threads: 196 },
  ] },
  { shape: { label: '14x14x384', n: 32, h: 14, w: 14, c: 384 }, configs: [
    { kind: 'flat', sw: 7, strips: 6, threads: 256 },
    { kind: 'block', sw: 7, th: 2, tw: 14, threads: 256 },
    { kind: 'block', sw: 7, th: 7, tw: 14, threads: 256 },
    { kind: 'block', sw: 7, th: 14, tw: 14, threads: 256 },
    { kind: 'flat', sw: 7, strips: 1, threads: 96 },
    { kind: 'flat', sw: 2, strips: 2, threads: 192 },
    { kind: 'flat', sw: 1, strips: 2, threads: 192 },
    { kind: 'flat', sw: 1, strips: 1, threads: 96 },
    { kind: 'staged', sw: 7, th: 14, tw: 14, cs: 4, threads: 112 },
    { kind: 'staged', sw: 7, th: 7, tw: 14, cs: 8, threads: 112 },
    { kind: 'staged', sw: 7, th: 14, tw: 14, cs: 2, threads: 56 },
  ] },
  { shape: { label: '7x7x768', n: 32, h: 7, w: 7, c: 768 }, configs: [
    { kind: 'flat', sw: 7, strips: 3, threads: 256 },
    { kind: 'block', sw: 7, th: 7, tw: 7, threads: 256 },
    { kind: 'flat', sw: 7, strips: 1, threads: 192 },
    { kind: 'flat', sw: 1, strips: 1, threads: 192 },
    { kind: 'flat', sw: 1, strips: 2, threads: 384 },
    { kind: 'staged', sw: 7, th: 7, tw: 7, cs: 16, threads: 112 },
    { kind: 'staged', sw: 7, th: 7, tw: 7, cs: 8, threads: 56 },
    { kind: 'staged', sw: 7, th: 7, tw: 7, cs: 4, threads: 28 },
  ] },
];

const peaks = await measureDevicePeaks(device, smoke ? { fmaIterations: 64, fmaWorkgroups: 64, copyBytes: 4 << 20, repeats: 2 } : {});
console.log(`peaks: FMA ${peaks.fmaTflops.toFixed(1)} TFLOP/s, copy ${(peaks.copyGBps / 1000).toFixed(2)} TB/s (${peaks.timing})`);
const limit = device.limits.maxComputeWorkgroupStorageSize;
const rows: unknown[] = [];
for (const { shape: s, configs } of SHAPES) {
  const elements = s.n * s.h * s.w * s.c;
  const x = rand(elements, 1), f = rand(K * K * s.c, 2), b = rand(s.c, 3);
  const buf = (data: Float32Array<ArrayBuffer> | null, bytes: number, usage: number) => {
    const g = device.createBuffer({ size: bytes, usage });
    if (data) device.queue.writeBuffer(g, 0, data);
    return g;
  };
  const input = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
  const X = buf(x, x.byteLength, input), F = buf(f, f.byteLength, input), B = buf(b, b.byteLength, input);
  const Y = buf(null, elements * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
  const R = buf(null, elements * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
  const poison = new Float32Array(elements).fill(Number.NaN);
  // Floor: read the input once, write the output once; the conv's FMAs at the FMA peak.
  const floorMs = Math.max(2 * elements * 4 / (peaks.copyGBps * 1e9) * 1e3, 2 * K * K * elements / (peaks.fmaTflops * 1e12) * 1e3);
  console.log(`\n${s.label} N=${s.n}: floor ${(floorMs * 1e3).toFixed(1)} us`);
  for (const c of configs) {
    if (c.kind === 'staged' && (c.th + K - 1) * (c.tw + K - 1) * c.cs * 16 > limit) continue;
    if (c.threads > Math.min(device.limits.maxComputeInvocationsPerWorkgroup, device.limits.maxComputeWorkgroupSizeX)) continue;
    const module = device.createShaderModule({ code: shader(s, c) });
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0),
      entries: [X, F, B, Y].map((buffer, i) => ({ binding: i, resource: { buffer } })) });
    const groups = workgroups(s, c);
    // Poisoned output, one run, then every output checked (sampled on big shapes) against float64.
    device.queue.writeBuffer(Y, 0, poison);
    await timeDispatch(device, pipeline, group, groups, 1);
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(Y, 0, R, 0, elements * 4);
    device.queue.submit([enc.finish()]);
    await R.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(R.getMappedRange().slice(0));
    R.unmap();
    let maxErr = 0;
    const samples = Math.min(elements, 20000);
    for (let t = 0; t < samples; t++) {
      const i = samples === elements ? t : (t * 7919 + 13) % elements;
      const ch = i % s.c, px = Math.floor(i / s.c) % s.w, py = Math.floor(i / (s.c * s.w)) % s.h;
      const nn = Math.floor(i / (s.c * s.w * s.h));
      let ref = b[ch];
      for (let ky = 0; ky < K; ky++) for (let kx = 0; kx < K; kx++) {
        const iy = py + ky - PAD, ix = px + kx - PAD;
        if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
        ref += x[((nn * s.h + iy) * s.w + ix) * s.c + ch] * f[(ky * K + kx) * s.c + ch];
      }
      const err = Math.abs(out[i] - ref);
      maxErr = Number.isNaN(err) ? Infinity : Math.max(maxErr, err);
    }
    if (!(maxErr < 1e-5 * K * K)) throw new Error(`${s.label} ${describe(c)}: max error ${maxErr}`);
    const t0 = performance.now();
    while (performance.now() - t0 < (smoke ? 0 : 300)) await timeDispatch(device, pipeline, group, groups, 5);
    const { ms } = await timeDispatch(device, pipeline, group, groups, smoke ? 2 : 20);
    const row = { shape: s.label, ...s, config: c, workgroups: groups, ms, floorMs, xFloor: ms / floorMs, maxErr };
    rows.push(row);
    console.log(`${describe(c).padEnd(36)} ${String(groups).padStart(6)} wg  ${(ms * 1e3).toFixed(1).padStart(7)} us  ` +
      `${(ms / floorMs).toFixed(2)}x floor  err ${maxErr.toExponential(1)}`);
  }
  for (const g of [X, F, B, Y, R]) g.destroy();
}
if (jsonFile) writeJsonFile(jsonFile, { date: new Date().toISOString(), peaks, rows });
