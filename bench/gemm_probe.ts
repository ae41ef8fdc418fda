/**
 * Probe: how fast can a plain register-tiled WGSL SGEMM run the wide blocks' 1x1 layers at N=32 on this
 * device? The fused block kernel's MLP phase runs 14x14x384 at ~19 TFLOP/s (30% of the FMA peak; BENCHMARKS.md)
 * because a workgroup must hold its tile's [pixels x C] projection accumulators, which caps wide tiles at
 * 4-8 pixels and re-reads W1/W2 per tile. If a big-tile GEMM is much faster, a 3-dispatch variant (conv+norm,
 * expand+activation, project+residual; the hidden tensor through device memory, 77 MB at 14x14x384 N=32,
 * ~20 us at 4 TB/s) wins for wide blocks at large batch.
 *
 *   node --import tsx bench/gemm_probe.ts [--smoke] [--json FILE]
 *
 * Every configuration is checked against a CPU float64 product on sampled entries before it is timed.
 */
import { parseCommandLine } from './support/args.js';
import { writeJsonFile } from './support/json_output.js';
import { GEMM_PROBE_COMMAND } from './support/bench_args.js';

// The command line is checked (--help, unknown options: exit) before any device work.
const { smoke, jsonFile } = parseCommandLine(GEMM_PROBE_COMMAND);

const { setupNodeWebGPU } = await import('../src/node/webgpu_setup.js');
await setupNodeWebGPU({ preferSwiftShader: true });
const { measureDevicePeaks, timeDispatch } = await import('../src/analysis/microbench.js');

const { requestProbeDevice } = await import('./support/webgpu_bench.js');
const device = await requestProbeDevice();

interface Config { bm: number; bn: number; bk: number; tm: number; tn4: number }

/** C[M,N] = A[M,K] B[K,N], row-major; K a multiple of bk, N of bn. Threads own strided rows / vec4 columns. */
function gemmShader(c: Config, m: number, n: number, k: number): string {
  const tx = c.bn / 4 / c.tn4;
  const ty = c.bm / c.tm;
  const threads = tx * ty;
  const aLoads = (c.bm * c.bk / 4) / threads;
  const bLoads = (c.bk * c.bn / 4) / threads;
  const n4 = n / 4;
  const acc = Array.from({ length: c.tm * c.tn4 }, (_, i) => `var acc${i} = vec4<f32>(0.0);`).join(' ');
  const fmas: string[] = [];
  for (let i = 0; i < c.tm; i++) fmas.push(`let a${i} = As[kk * ${c.bm} + ty + ${i * ty}u];`);
  for (let j = 0; j < c.tn4; j++) fmas.push(`let b${j} = Bs[kk * ${c.bn / 4} + tx + ${j * tx}u];`);
  for (let i = 0; i < c.tm; i++) for (let j = 0; j < c.tn4; j++) fmas.push(`acc${i * c.tn4 + j} = fma(vec4<f32>(a${i}), b${j}, acc${i * c.tn4 + j});`);
  const stores: string[] = [];
  for (let i = 0; i < c.tm; i++) {
    stores.push(`if (m0 + ty + ${i * ty}u < ${m}u) {`);
    for (let j = 0; j < c.tn4; j++) stores.push(`  C[(m0 + ty + ${i * ty}u) * ${n4}u + n04 + tx + ${j * tx}u] = acc${i * c.tn4 + j};`);
    stores.push('}');
  }
  const loadA = Array.from({ length: aLoads }, (_, l) => `{
      let idx = lid + ${l * threads}u; let r = idx / ${c.bk / 4}u; let q = idx % ${c.bk / 4}u;
      var v = vec4<f32>(0.0);
      if (m0 + r < ${m}u) { v = A[(m0 + r) * ${k / 4}u + k0 / 4u + q]; }
      ra${l} = v; }`).join('\n');
  const storeA = Array.from({ length: aLoads }, (_, l) => `{
      let idx = lid + ${l * threads}u; let r = idx / ${c.bk / 4}u; let q = idx % ${c.bk / 4}u;
      As[(4u * q) * ${c.bm}u + r] = ra${l}.x; As[(4u * q + 1u) * ${c.bm}u + r] = ra${l}.y;
      As[(4u * q + 2u) * ${c.bm}u + r] = ra${l}.z; As[(4u * q + 3u) * ${c.bm}u + r] = ra${l}.w; }`).join('\n');
  const loadB = Array.from({ length: bLoads }, (_, l) => `{
      let idx = lid + ${l * threads}u; let r = idx / ${c.bn / 4}u; let q = idx % ${c.bn / 4}u;
      rb${l} = B[(k0 + r) * ${n4}u + n04 + q]; }`).join('\n');
  const storeB = Array.from({ length: bLoads }, (_, l) => `Bs[lid + ${l * threads}u] = rb${l};`).join('\n');
  return `
@group(0) @binding(0) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> B: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> C: array<vec4<f32>>;
var<workgroup> As: array<f32, ${c.bk * c.bm}>;
var<workgroup> Bs: array<vec4<f32>, ${c.bk * c.bn / 4}>;
@compute @workgroup_size(${threads})
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3<u32>) {
  let m0 = (wg.x / ${n / c.bn}u) * ${c.bm}u;
  let n04 = (wg.x % ${n / c.bn}u) * ${c.bn / 4}u;
  let tx = lid % ${tx}u;
  let ty = lid / ${tx}u;
  ${acc}
  ${Array.from({ length: aLoads }, (_, l) => `var ra${l}: vec4<f32>;`).join(' ')}
  ${Array.from({ length: bLoads }, (_, l) => `var rb${l}: vec4<f32>;`).join(' ')}
  var k0 = 0u;
  ${loadA}
  ${loadB}
  for (var t = 0u; t < ${k / c.bk}u; t++) {
    ${storeA}
    ${storeB}
    workgroupBarrier();
    k0 = (t + 1u) * ${c.bk}u;
    if (t + 1u < ${k / c.bk}u) {
      ${loadA}
      ${loadB}
    }
    for (var kk = 0u; kk < ${c.bk}u; kk++) {
      ${fmas.join('\n      ')}
    }
    workgroupBarrier();
  }
  ${stores.join('\n  ')}
}`;
}

function rand(n: number, seed: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; out[i] = s / 2 ** 31 - 1; }
  return out;
}

const SHAPES = smoke ? [{ label: 'smoke', m: 100, k: 64, n: 128 }] : [
  { label: '28x28x192 expand', m: 32 * 784, k: 192, n: 768 },
  { label: '28x28x192 project', m: 32 * 784, k: 768, n: 192 },
  { label: '14x14x384 expand', m: 32 * 196, k: 384, n: 1536 },
  { label: '14x14x384 project', m: 32 * 196, k: 1536, n: 384 },
  { label: '7x7x768 expand', m: 32 * 49, k: 768, n: 3072 },
  { label: '7x7x768 project', m: 32 * 49, k: 3072, n: 768 },
];
const CONFIGS: Config[] = [
  { bm: 128, bn: 128, bk: 8, tm: 8, tn4: 2 },
  { bm: 128, bn: 64, bk: 8, tm: 8, tn4: 2 },
  { bm: 64, bn: 128, bk: 8, tm: 8, tn4: 2 },
  { bm: 64, bn: 64, bk: 16, tm: 4, tn4: 2 },
  { bm: 128, bn: 128, bk: 16, tm: 8, tn4: 2 },
];

const peaks = await measureDevicePeaks(device, smoke ? { fmaIterations: 64, fmaWorkgroups: 64, copyBytes: 4 << 20, repeats: 2 } : {});
console.log(`peaks: FMA ${peaks.fmaTflops.toFixed(1)} TFLOP/s, copy ${(peaks.copyGBps / 1000).toFixed(2)} TB/s (${peaks.timing})`);
const rows: unknown[] = [];
for (const s of SHAPES) {
  const a = rand(s.m * s.k, 1), b = rand(s.k * s.n, 2);
  const buf = (data: Float32Array<ArrayBuffer> | null, bytes: number, usage: number) => {
    const g = device.createBuffer({ size: bytes, usage });
    if (data) device.queue.writeBuffer(g, 0, data);
    return g;
  };
  const A = buf(a, a.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
  const B = buf(b, b.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
  const C = buf(null, s.m * s.n * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
  const R = buf(null, s.m * s.n * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
  for (const c of CONFIGS) {
    if (s.n % c.bn !== 0 || s.k % c.bk !== 0) continue;
    const module = device.createShaderModule({ code: gemmShader(c, s.m, s.n, s.k) });
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [A, B, C].map((buffer, i) => ({ binding: i, resource: { buffer } })) });
    const workgroups = Math.ceil(s.m / c.bm) * (s.n / c.bn);
    // Correctness on sampled entries before timing.
    const { ms: _first } = await timeDispatch(device, pipeline, group, workgroups, 1);
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(C, 0, R, 0, s.m * s.n * 4);
    device.queue.submit([enc.finish()]);
    await R.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(R.getMappedRange().slice(0));
    R.unmap();
    let maxErr = 0;
    for (let t = 0; t < 2000; t++) {
      const i = (t * 7919) % s.m, j = (t * 104729) % s.n;
      let ref = 0;
      for (let q = 0; q < s.k; q++) ref += a[i * s.k + q] * b[q * s.n + j];
      maxErr = Math.max(maxErr, Math.abs(out[i * s.n + j] - ref));
    }
    if (!(maxErr < 1e-4 * s.k)) throw new Error(`${s.label} ${JSON.stringify(c)}: max error ${maxErr}`);
    // Ramp clocks, then best of 20.
    const t0 = performance.now();
    while (performance.now() - t0 < (smoke ? 0 : 300)) await timeDispatch(device, pipeline, group, workgroups, 5);
    const { ms } = await timeDispatch(device, pipeline, group, workgroups, smoke ? 2 : 20);
    const tflops = 2 * s.m * s.n * s.k / (ms * 1e-3) / 1e12;
    const row = { shape: s.label, ...s, config: c, ms, tflops, pctPeak: 100 * tflops / peaks.fmaTflops, maxErr };
    rows.push(row);
    console.log(`${s.label.padEnd(20)} bm${c.bm} bn${c.bn} bk${c.bk} ${c.tm}x${c.tn4 * 4}  ${ms.toFixed(3)} ms  ${tflops.toFixed(1)} TFLOP/s  ${row.pctPeak.toFixed(1)}%  err ${maxErr.toExponential(1)}`);
  }
  for (const g of [A, B, C, R]) g.destroy();
}
if (jsonFile) writeJsonFile(jsonFile, { date: new Date().toISOString(), peaks, rows });
