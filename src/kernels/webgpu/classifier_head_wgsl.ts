/**
 * WGSL for FusedClassifierHead, one dispatch over (image groups, output-column slices). A workgroup:
 *   1. pools its R images: thread i sums x over H*W for (image, channel) pairs i, i + T, ... (reads coalesced
 *      across channels) into workgroup memory `z` [R, C];
 *   2. LayerNorms each row in place: T / R threads per row, sum and sum of squared deviations tree-reduced
 *      (two-pass moments, as GraphBuilder.layerNorm and FusedLayerNorm);
 *   3. computes output columns: thread t owns column unit (slice * T + t) of all R rows, reading weight rows
 *      once per workgroup (coalesced across threads, vec4 when K % 4 == 0) and z from workgroup memory.
 * Several images per workgroup (R up to 8, as workgroup memory allows) share each weight read at batch > 1.
 */
import { floatLiteral } from '../../spec/activations.js';
import type { TilingLimits } from './tiling.js';

/** Threads per workgroup: SwiftShader's maximum, and enough to keep a weight row of 1000 columns in one pass. */
export const CLASSIFIER_HEAD_WORKGROUP = 256;
/** The most images one workgroup pools and normalizes (accumulators per thread in phase 3). */
export const MAX_HEAD_ROWS = 8;

export interface ClassifierHeadShape { n: number; hw: number; c: number; k: number }

export interface ClassifierHeadPlan extends ClassifierHeadShape {
  /** 4: vec4 weight / bias / output (K % 4 == 0); 1: scalar. */
  components: 1 | 4;
  /** Output column units per row: K / components. */
  kUnits: number;
  workgroupSize: number;
  /** Images per workgroup R (a power of two dividing workgroupSize). */
  rows: number;
  /** Threads reducing one row's statistics: workgroupSize / rows. */
  threadsPerRow: number;
  rowGroups: number;
  columnSlices: number;
  workgroups: number;
  /** Workgroup memory: z [R, C] and the reduction scratch [workgroupSize], float32. */
  storageBytes: number;
}

export type ClassifierHeadChoice = { ok: true; plan: ClassifierHeadPlan } | { ok: false; reason: string };

const storageBytes = (rows: number, c: number, threads: number) => 4 * (rows * c + threads);
const floorPow2 = (n: number) => 2 ** Math.floor(Math.log2(Math.max(1, n)));

/** The plan for one head shape within the adapter's limits, or why the reference composition runs instead. */
export function planClassifierHead(s: ClassifierHeadShape, limits: TilingLimits): ClassifierHeadChoice {
  if (s.n * s.k === 0) return { ok: false, reason: 'empty output' };
  const workgroupSize = floorPow2(Math.min(CLASSIFIER_HEAD_WORKGROUP, limits.maxComputeInvocationsPerWorkgroup));
  const fits = (r: number) => storageBytes(r, s.c, workgroupSize) <= limits.maxComputeWorkgroupStorageSize;
  if (!fits(1)) {
    return { ok: false, reason: `C = ${s.c} pooled values need ${storageBytes(1, s.c, workgroupSize)} bytes of ` +
      `workgroup memory, the adapter allows ${limits.maxComputeWorkgroupStorageSize} (maxComputeWorkgroupStorageSize)` };
  }
  let rows = Math.min(MAX_HEAD_ROWS, workgroupSize, 2 ** Math.ceil(Math.log2(s.n)));
  while (rows > 1 && !fits(rows)) rows /= 2;
  const components = s.k % 4 === 0 ? 4 : 1;
  const kUnits = s.k / components;
  const rowGroups = Math.ceil(s.n / rows);
  const columnSlices = Math.ceil(kUnits / workgroupSize);
  return { ok: true, plan: { ...s, components, kUnits, workgroupSize, rows, threadsPerRow: workgroupSize / rows,
    rowGroups, columnSlices, workgroups: rowGroups * columnSlices,
    storageBytes: storageBytes(rows, s.c, workgroupSize) } };
}

let last: ClassifierHeadChoice | null = null;
/** The plan of the most recent classifier head call on the webgpu backend (ok: false = the reference ran). */
export function lastClassifierHeadDecision(): ClassifierHeadChoice | null { return last; }
export function recordClassifierHeadDecision(c: ClassifierHeadChoice): void { last = c; }

export function classifierHeadShaderKey(p: ClassifierHeadPlan, epsilon: number): string {
  return `fusedClassifierHead_hw${p.hw}_c${p.c}_k${p.k}_v${p.components}_r${p.rows}_wg${p.workgroupSize}` +
    `_e${epsilon}`;
}

export function classifierHeadShaderSource(p: ClassifierHeadPlan, epsilon: number): string {
  const { rows: r, c, kUnits, workgroupSize: t, threadsPerRow: tpr } = p;
  const vec = p.components === 4 ? 'vec4<f32>' : 'f32';
  const strides: number[] = [];
  for (let s = tpr / 2; s >= 1; s /= 2) strides.push(s);
  const rowList = Array.from({ length: r }, (_, i) => i);
  return `
var<workgroup> z: array<f32, ${r * c}>;
var<workgroup> partial: array<f32, ${t}>;

// The sum of value over the ${tpr} threads of this thread's row (all threads reach every barrier).
fn rowSum(lid: i32, lane: i32, value: f32) -> f32 {
  partial[lid] = value;
  workgroupBarrier();
${strides.map((s) => `  if (lane < ${s}) { partial[lid] += partial[lid + ${s}]; }
  workgroupBarrier();`).join('\n')}
  let total = partial[lid - lane];
  workgroupBarrier(); // everyone has read it before the next rowSum overwrites partial
  return total;
}

fn main(index: i32) {
  let lid = i32(localIndex);
  // The batch from the uniforms (the pipeline serves every N with this R); they must be used to stay bound.
  let batch = uniforms.outShape.x;
  let n0 = i32(workgroupId.x) * ${r};
  // 1. Global average pool of images n0 .. n0 + ${r - 1} (rows past N pool nothing: z = beta, never written out).
  for (var i = lid; i < ${r * c}; i += ${t}) {
    let row = i / ${c};
    let n = n0 + row;
    var s = 0.0;
    if (n < batch) {
      let base = n * ${p.hw * c} + i - row * ${c};
      for (var q = 0; q < ${p.hw}; q++) { s += x[base + q * ${c}]; }
    }
    z[i] = s / ${floatLiteral(p.hw)};
  }
  workgroupBarrier();
  // 2. LayerNorm of each pooled row over C, in place.
  let row = lid / ${tpr};
  let lane = lid % ${tpr};
  let rowBase = row * ${c};
  var s = 0.0;
  for (var ch = lane; ch < ${c}; ch += ${tpr}) { s += z[rowBase + ch]; }
  let mean = rowSum(lid, lane, s) / ${floatLiteral(c)};
  var sq = 0.0;
  for (var ch = lane; ch < ${c}; ch += ${tpr}) {
    let d = z[rowBase + ch] - mean;
    sq += d * d;
  }
  let rstd = inverseSqrt(rowSum(lid, lane, sq) / ${floatLiteral(c)} + ${floatLiteral(epsilon)});
  for (var ch = lane; ch < ${c}; ch += ${tpr}) {
    z[rowBase + ch] = (z[rowBase + ch] - mean) * rstd * gamma[ch] + beta[ch];
  }
  workgroupBarrier();
  // 3. Dense: this thread's column unit for every row of the group.
  let col = i32(workgroupId.y) * ${t} + lid;
  if (col < ${kUnits}) {
    let b = bias[col];
${rowList.map((i) => `    var acc${i} = b;`).join('\n')}
    for (var ch = 0; ch < ${c}; ch++) {
      let w = weight[ch * ${kUnits} + col];
${rowList.map((i) => `      acc${i} += z[${i * c} + ch] * w;`).join('\n')}
    }
${rowList.map((i) => `    if (n0 + ${i} < batch) { result[(n0 + ${i}) * ${kUnits} + col] = acc${i}; }`).join('\n')}
  }
}
`;
}
