/**
 * WGSL for FusedClassifierHead, one (1-D) dispatch over (image groups, output-column slices). A workgroup:
 *   1. pools its R images: thread i sums x over H*W for (image, channel) pairs i, i + T, ... (reads coalesced
 *      across channels) into workgroup memory `z` [R, C];
 *   2. LayerNorms each row in place: T / R threads per row, sum and sum of squared deviations tree-reduced
 *      (two-pass moments, as GraphBuilder.layerNorm and FusedLayerNorm);
 *   3. computes S = T / L output column units of all R rows: thread (lane, j) sums channels lane, lane + L, ...
 *      for column unit j (weight reads coalesced across the S threads of a lane, vec4 when K % 4 == 0; z from
 *      workgroup memory), then the L lanes' partial sums are tree-reduced and lane 0 adds the bias and writes.
 * Several images per workgroup (R up to 8, as workgroup memory allows) share each weight read at batch > 1;
 * splitting C over L lanes gives narrow column slices, so a batch-1 head still launches many workgroups
 * (each re-pools its images: x is small next to the weight matrix).
 */
import { floatLiteral } from '../../spec/activations.js';
import { halvingStrides, wgslRowSum } from './row_sum_wgsl.js';
import type { TilingLimits } from './tiling.js';

/** Threads per workgroup: SwiftShader's maximum, and enough to keep a weight row of 1000 columns in one pass. */
export const CLASSIFIER_HEAD_WORKGROUP = 256;
/** The most images one workgroup pools and normalizes (accumulators per thread in phase 3). */
export const MAX_HEAD_ROWS = 8;
/**
 * Workgroups the plan aims for (narrowing column slices with more lanes over C until it gets there): about one per
 * SM of a large GPU. Measured (H100, bench:models lane configs, BENCHMARKS.md "Classifier head lanes"): ConvNeXt-T's
 * head at N=32 0.080 / 0.060 / 0.052 / 0.074 / 0.123 ms with 32 / 64 / 128 / 256 / 512 workgroups (8-128 lanes), at
 * N=1 0.028 / 0.022 / 0.019 ms with 32 / 63 / 125.
 */
export const HEAD_TARGET_WORKGROUPS = 128;
/** The most lanes splitting C per column unit. */
export const MAX_HEAD_LANES = 128;
/** The fewest channels one lane sums (lanes <= C / this). */
export const MIN_LANE_CHANNELS = 4;

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
  /** Lanes L splitting the dense layer's C sum per column unit (a power of two). */
  lanes: number;
  /** Column units per workgroup: workgroupSize / lanes. */
  columnsPerWorkgroup: number;
  rowGroups: number;
  columnSlices: number;
  workgroups: number;
  /** Workgroup memory: z [R, C], the statistics scratch [workgroupSize] and, with lanes > 1, the lane sums. */
  storageBytes: number;
}

export type ClassifierHeadChoice = { ok: true; plan: ClassifierHeadPlan } | { ok: false; reason: string };

const storageBytes = (rows: number, c: number, threads: number, lanes: number, components: number) =>
  4 * (rows * c + threads + (lanes > 1 ? threads * components : 0));
const floorPow2 = (n: number) => 2 ** Math.floor(Math.log2(Math.max(1, n)));

let lanesOverride: number | null = null;
/** Tests / benchmarks: force the lanes per column unit (a power of two <= the workgroup size); null restores the rule. */
export function setClassifierHeadLanes(lanes: number | null): void { lanesOverride = lanes; }
let rowsOverride: number | null = null;
/** Benchmarks: force the images per workgroup R (a power of two, shrunk to fit); null restores the rule. */
export function setClassifierHeadRows(rows: number | null): void { rowsOverride = rows; }

/** The plan for one head shape within the adapter's limits, or why the reference composition runs instead. */
export function planClassifierHead(s: ClassifierHeadShape, limits: TilingLimits): ClassifierHeadChoice {
  if (s.n * s.k === 0) return { ok: false, reason: 'empty output' };
  const workgroupSize = floorPow2(Math.min(CLASSIFIER_HEAD_WORKGROUP, limits.maxComputeInvocationsPerWorkgroup));
  const components = s.k % 4 === 0 ? 4 : 1;
  const kUnits = s.k / components;
  const bytes = (r: number, l: number) => storageBytes(r, s.c, workgroupSize, l, components);
  const fits = (r: number, l: number) => bytes(r, l) <= limits.maxComputeWorkgroupStorageSize;
  if (!fits(1, 1)) {
    return { ok: false, reason: `C = ${s.c} pooled values need ${bytes(1, 1)} bytes of ` +
      `workgroup memory, the adapter allows ${limits.maxComputeWorkgroupStorageSize} (maxComputeWorkgroupStorageSize)` };
  }
  let rows = Math.min(rowsOverride ?? MAX_HEAD_ROWS, workgroupSize, 2 ** Math.ceil(Math.log2(s.n)));
  while (rows > 1 && !fits(rows, 1)) rows /= 2;
  const rowGroups = Math.ceil(s.n / rows);
  // Fewest lanes reaching the target workgroup count, each lane summing at least MIN_LANE_CHANNELS channels.
  const maxLanes = Math.min(MAX_HEAD_LANES, workgroupSize, floorPow2(Math.max(1, s.c / MIN_LANE_CHANNELS)));
  let lanes = 1;
  if (lanesOverride != null) {
    lanes = Math.min(lanesOverride, workgroupSize);
  } else {
    while (lanes < maxLanes && rowGroups * Math.ceil(kUnits / (workgroupSize / lanes)) < HEAD_TARGET_WORKGROUPS) lanes *= 2;
  }
  // The lane sums' scratch must fit too: fewer lanes, then fewer rows.
  while (lanes > 1 && !fits(rows, lanes)) lanes = lanesOverride != null ? 1 : lanes / 2;
  const columnsPerWorkgroup = workgroupSize / lanes;
  const columnSlices = Math.ceil(kUnits / columnsPerWorkgroup);
  return { ok: true, plan: { ...s, components, kUnits, workgroupSize, rows, threadsPerRow: workgroupSize / rows,
    lanes, columnsPerWorkgroup, rowGroups, columnSlices, workgroups: rowGroups * columnSlices,
    storageBytes: bytes(rows, lanes) } };
}

let last: ClassifierHeadChoice | null = null;
/** The plan of the most recent classifier head call on the webgpu backend (ok: false = the reference ran). */
export function lastClassifierHeadDecision(): ClassifierHeadChoice | null { return last; }
export function recordClassifierHeadDecision(c: ClassifierHeadChoice): void { last = c; }

export function classifierHeadShaderKey(p: ClassifierHeadPlan, epsilon: number): string {
  return `fusedClassifierHead_hw${p.hw}_c${p.c}_k${p.k}_v${p.components}_r${p.rows}_l${p.lanes}_wg${p.workgroupSize}` +
    `_e${epsilon}`;
}

export function classifierHeadShaderSource(p: ClassifierHeadPlan, epsilon: number): string {
  const { rows: r, c, kUnits, workgroupSize: t, threadsPerRow: tpr, lanes, columnsPerWorkgroup: cols } = p;
  const vec = p.components === 4 ? 'vec4<f32>' : 'f32';
  const rowList = Array.from({ length: r }, (_, i) => i);
  const write = (i: number, value: string) => `if (n0 + ${i} < batch) { result[(n0 + ${i}) * ${kUnits} + col] = ${value}; }`;
  // Lane sums: row by row through one scratch array (all threads reach every barrier).
  const laneReduce = rowList.map((i) => `  laneSum[lid] = acc${i};
  workgroupBarrier();
${halvingStrides(lanes).map((s) => `  if (lane < ${s}) { laneSum[lid] += laneSum[lid + ${s * cols}]; }
  workgroupBarrier();`).join('\n')}
  if (lane == 0 && col < ${kUnits}) { ${write(i, 'laneSum[lid] + bias[col]')} }
  workgroupBarrier();`).join('\n');
  return `
var<workgroup> z: array<f32, ${r * c}>;
${lanes > 1 ? `var<workgroup> laneSum: array<${vec}, ${t}>;` : ''}

${wgslRowSum(tpr, t)}

fn main(index: i32) {
  let lid = i32(localIndex);
  // The batch from the uniforms (the pipeline serves every N with this R); they must be used to stay bound.
  let batch = uniforms.outShape.x;
  // One 1-D dispatch of row groups x column slices, which the backend may reshape into 2-D/3-D past
  // maxComputeWorkgroupsPerDimension: linearize the workgroup id. Row groups vary fastest (one column slice's weight
  // reads stay close together); extra workgroups of a reshape get slice >= the column slices, so col >= ${kUnits}.
  let group = i32(workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x);
  let rowGroups = (batch + ${r - 1}) / ${r};
  let slice = group / rowGroups;
  let n0 = (group - slice * rowGroups) * ${r};
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
  let rowLane = lid % ${tpr};
  let rowBase = row * ${c};
  // Moments of the row shifted by its first value: equal values give exactly 0 deviations (y = beta), which a sum
  // divided by C (rounded, and by a reciprocal on GPUs) does not. Read before the rowSum barriers; z is written after.
  let shift = z[rowBase];
  var s = 0.0;
  for (var ch = rowLane; ch < ${c}; ch += ${tpr}) { s += z[rowBase + ch] - shift; }
  let mean = rowSum(lid, rowLane, s) / ${floatLiteral(c)};
  var sq = 0.0;
  for (var ch = rowLane; ch < ${c}; ch += ${tpr}) {
    let d = z[rowBase + ch] - shift - mean;
    sq += d * d;
  }
  let rstd = inverseSqrt(rowSum(lid, rowLane, sq) / ${floatLiteral(c)} + ${floatLiteral(epsilon)});
  for (var ch = rowLane; ch < ${c}; ch += ${tpr}) {
    z[rowBase + ch] = (z[rowBase + ch] - shift - mean) * rstd * gamma[ch] + beta[ch];
  }
  workgroupBarrier();
  // 3. Dense: column unit col, channels lane, lane + ${lanes}, ... of every row of the group.
  let lane = lid / ${cols};
  let col = slice * ${cols} + lid % ${cols};
${rowList.map((i) => `  var acc${i} = ${vec}(0.0);`).join('\n')}
  if (col < ${kUnits}) {
    for (var ch = lane; ch < ${c}; ch += ${lanes}) {
      let w = weight[ch * ${kUnits} + col];
${rowList.map((i) => `      acc${i} += z[${i * c} + ch] * w;`).join('\n')}
    }
  }
${lanes > 1 ? laneReduce : `  if (col < ${kUnits}) {
    let b = bias[col];
${rowList.map((i) => `    ${write(i, `acc${i} + b`)}`).join('\n')}
  }`}
}
`;
}
