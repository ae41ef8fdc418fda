/**
 * WGSL for FusedLayerNorm: one dispatch. Each row (the last axis of x, C values) is owned by T threads of
 * a workgroup (T a power of two, R = workgroupSize / T rows per workgroup): each thread keeps its share of
 * the row in registers, and the row's sum and sum of squared deviations are tree-reduced in workgroup
 * memory (two-pass moments, as GraphBuilder.layerNorm). vec4 loads when C % 4 == 0, scalar otherwise.
 */
import { floatLiteral } from '../../spec/activations.js';
import { wgslRowSum } from './row_sum_wgsl.js';

/** Threads of one workgroup: small, so short rows (C = 96 is 24 vec4s) pack several rows per workgroup. */
export const LAYER_NORM_WORKGROUP = 64;
/** Values (vec4 or scalar) a thread keeps in registers before rows get more threads (up to 256). */
const MAX_PER_THREAD = 8;
/** SwiftShader's limit, the smallest adapters': 256 invocations. */
const MAX_THREADS_PER_ROW = 256;

export interface LayerNormPlan {
  channels: number;
  /** 4: vec4 loads (C % 4 == 0); 1: scalar. */
  components: 1 | 4;
  /** Values of `components` floats per row: C / components. */
  units: number;
  threadsPerRow: number;
  rowsPerWorkgroup: number;
  workgroupSize: number;
  /** Units each thread holds (the last may be partly out of the row). */
  perThread: number;
}

const nextPow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

export function layerNormPlan(channels: number): LayerNormPlan {
  const components = channels % 4 === 0 ? 4 : 1;
  const units = channels / components;
  let threadsPerRow = Math.min(LAYER_NORM_WORKGROUP, nextPow2(units));
  if (Math.ceil(units / threadsPerRow) > MAX_PER_THREAD) {
    threadsPerRow = Math.min(MAX_THREADS_PER_ROW, nextPow2(Math.ceil(units / MAX_PER_THREAD)));
  }
  const workgroupSize = Math.max(LAYER_NORM_WORKGROUP, threadsPerRow);
  return { channels, components, units, threadsPerRow, rowsPerWorkgroup: workgroupSize / threadsPerRow, workgroupSize,
    perThread: Math.ceil(units / threadsPerRow) };
}

export function layerNormShaderKey(p: LayerNormPlan, epsilon: number): string {
  return `fusedLayerNorm_c${p.channels}_v${p.components}_t${p.threadsPerRow}_wg${p.workgroupSize}_e${epsilon}`;
}

export function layerNormShaderSource(p: LayerNormPlan, epsilon: number): string {
  const { threadsPerRow: t, units, perThread } = p;
  const vec = p.components === 4 ? 'vec4<f32>' : 'f32';
  const total = (v: string) => (p.components === 4 ? `dot(${v}, vec4<f32>(1.0))` : v);
  const inRow = (i: string) => `rowOk && lane + ${i} * ${t} < ${units}`;
  return `
${wgslRowSum(t, p.workgroupSize)}

fn main(index: i32) {
  let lid = i32(localIndex);
  // The backend may reshape a long 1-D dispatch into 2-D/3-D: linearize the workgroup id.
  let group = i32(workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x);
  let lane = lid % ${t};
  let row = group * ${p.rowsPerWorkgroup} + lid / ${t};
  // No early return for rows past the end (or extra workgroups of a reshaped dispatch): barriers follow.
  let rowOk = row < uniforms.size / ${units};
  let base = row * ${units} + lane;
  // Moments of x - shift, shift = the row's first value: a row of equal values is then exactly zero (variance 0,
  // y = beta) whatever the rounding of the sum and of the division by C, and a large common offset does not cancel.
  var shift = 0.0;
  if (rowOk) { shift = x[row * ${units}]${p.components === 4 ? '.x' : ''}; }
  var v: array<${vec}, ${perThread}>;
  var s = 0.0;
  for (var i = 0; i < ${perThread}; i++) {
    if (${inRow('i')}) {
      v[i] = x[base + i * ${t}] - shift;
      s += ${total('v[i]')};
    }
  }
  let mean = rowSum(lid, lane, s) / ${floatLiteral(p.channels)};
  var q = 0.0;
  for (var i = 0; i < ${perThread}; i++) {
    if (${inRow('i')}) {
      let d = v[i] - mean;
      q += ${p.components === 4 ? 'dot(d, d)' : 'd * d'};
    }
  }
  let rstd = inverseSqrt(rowSum(lid, lane, q) / ${floatLiteral(p.channels)} + ${floatLiteral(epsilon)});
  for (var i = 0; i < ${perThread}; i++) {
    if (${inRow('i')}) {
      let u = lane + i * ${t};
      result[base + i * ${t}] = (v[i] - mean) * rstd * gamma[u] + beta[u];
    }
  }
}
`;
}
