/**
 * The block MLP as two GEMMs through device memory ('gemm-mlp' variant, dispatches 2 and 3 after the conv +
 * norm dispatch): expand  H = act(A W1' + b1')  and  project  y = H W2' + b2' (+ x). W1', W2', b1', b2' are read
 * from the block's packed weights (packedOffsets), so both variants share one weight fold.
 *
 * Why: in the one-dispatch kernel a workgroup must keep its tile's [pixels x C] projection accumulators for the
 * whole walk over D, which caps wide blocks (C >= 192) at 4-16 pixel tiles, each re-reading W1' and W2' through
 * L2. At large batch the hidden tensor's round trip through device memory is cheap next to the matmuls
 * (77 MB at 14x14x384, N=32: ~20 us at 4 TB/s), and a plain register-tiled GEMM ran these shapes at 35-54% of
 * the FMA peak on an H200 against the fused kernel's 30%
 * (bench/gemm_probe.ts, BENCHMARKS.md "gemm-mlp variant"). With the rowVec4 tiles below it also beats the
 * one-dispatch kernel on the narrow 56x56x96 block at N=32 (whose 64-pixel tiles stage the weights), where the
 * hidden round trip is 154 MB.
 *
 * Layout: a workgroup owns a bm x bn output tile; thread (tx, ty) owns rows ty + i * (bm / tm) and vec4
 * columns tx + j * (bn / 4 / tn4) (strided, so a warp's loads of a k row are contiguous). Each step of bk
 * reduction rows stages A (transposed, so a thread's tm row values are one load each) and B in workgroup
 * memory; the next step's global loads are issued into registers before this step's FMAs. Index math is u32, as in
 * the probe (Tint clamps every array index for robustness; an unsigned index needs no lower bound).
 */
import { wgslActivationFunction } from '../../spec/activations.js';
import type { BlockSpec } from '../../spec/block_spec.js';
import { packedOffsets } from './block_wgsl.js';

export type GemmStage = 'expand' | 'project';

export interface GemmTile {
  bm: number; bn: number; bk: number; tm: number; tn4: number;
  /**
   * A thread's tm rows are consecutive (ty * tm + i) instead of strided (ty + i * bm / tm), so its A values of
   * one k are tm / 4 vec4 loads from workgroup memory instead of tm scalar ones (tm a multiple of 4).
   */
  rowVec4?: boolean;
}

const tile = (bm: number, bn: number, bk: number, tm: number, tn4: number): GemmTile =>
  ({ bm, bn, bk, tm, tn4, rowVec4: true });
/** Fallbacks for shapes the measured tiles do not divide. */
const FALLBACK: GemmTile[] = [tile(64, 64, 16, 4, 2), tile(64, 128, 8, 8, 2), tile(32, 32, 8, 4, 1)];

/**
 * Tile per stage, from in-kernel sweeps (bench --sweep, BENCHMARKS.md "gemm-mlp variant"). On an H200 both GEMMs
 * ran fastest with 64 x 64 tiles, bk 16, 4 x 8 outputs per thread, 128 threads (expand 64 x 64 beat the probe's
 * best 64 x 128 by 3-6% once the activation epilogue was in). On an H100 (same-run sweeps, both families):
 * rowVec4 took the wide blocks 10-14% lower; a 64 x 128 expand tile with the same 4 x 8 per thread (256 threads)
 * about 1% lower again on all six wide shapes; for the project GEMM (N = C, and 96 divides every ConvNeXt-T
 * width) 64 x 96 with 4 x 12 per thread at C = 96 (it is what makes the 56x56x96 block faster as gemm-mlp:
 * 0.61 vs 0.74 ms, the 32 x 96 tile 0.77), 32 x 96 (64 threads) from C = 192 (28x28x192 0.56 vs 0.58-0.62 ms
 * with 64 x 96; equal at 14x14 and 7x7).
 */
function preferredTiles(stage: GemmStage, spec: BlockSpec): GemmTile[] {
  if (stage === 'expand') return [tile(64, 128, 16, 4, 2), ...FALLBACK];
  return spec.channels >= 192 ? [tile(32, 96, 16, 4, 3), tile(64, 96, 16, 4, 3), ...FALLBACK] :
    [tile(64, 96, 16, 4, 3), ...FALLBACK];
}

export function gemmThreads(t: GemmTile): number {
  return (t.bn / 4 / t.tn4) * (t.bm / t.tm);
}

/** Per-thread counts of vec4 loads of A and B per step; whole numbers for a valid tile. */
function loadsPerThread(t: GemmTile): { a: number; b: number } {
  const threads = gemmThreads(t);
  return { a: (t.bm * t.bk / 4) / threads, b: (t.bk * t.bn / 4) / threads };
}

/** Whether tile `t` can run one stage of `spec` within `maxThreads`. */
export function gemmTileFits(t: GemmTile, stage: GemmStage, spec: BlockSpec, maxThreads: number): boolean {
  const n = stage === 'expand' ? spec.hidden : spec.channels;
  const k = stage === 'expand' ? spec.channels : spec.hidden;
  const l = loadsPerThread(t);
  return n % t.bn === 0 && k % t.bk === 0 && t.bm % t.tm === 0 && t.bn % (4 * t.tn4) === 0 &&
    (!t.rowVec4 || t.tm % 4 === 0) &&
    gemmThreads(t) <= maxThreads && Number.isInteger(l.a) && Number.isInteger(l.b) && l.a >= 1 && l.b >= 1;
}

/** The tile for one stage of `spec`: `forced` when it fits, else the first preferred tile that fits, else null. */
export function chooseGemmTile(stage: GemmStage, spec: BlockSpec, maxThreads: number, forced?: GemmTile): GemmTile | null {
  if (forced != null) return gemmTileFits(forced, stage, spec, maxThreads) ? forced : null;
  return preferredTiles(stage, spec).find((t) => gemmTileFits(t, stage, spec, maxThreads)) ?? null;
}

export function gemmShaderKey(stage: GemmStage, spec: BlockSpec, t: GemmTile): string {
  return `blockGemm_${stage}_c${spec.channels}_d${spec.hidden}` +
    (stage === 'expand' ? `_${spec.activation}` : `_r${+spec.residual}`) +
    `_bm${t.bm}_bn${t.bn}_bk${t.bk}_tm${t.tm}_tn${t.tn4}${t.rowVec4 ? '_rv' : ''}`;
}

/**
 * WGSL body (tfjs-backend-webgpu `main(index)` convention) for one stage. Inputs: `a` [M, K] vec4s, `mlp` (the
 * packed weights), and for a residual projection `x` [M, C]; output `result` [M, N]; `uniforms.rows` = M.
 */
export function gemmShaderSource(stage: GemmStage, spec: BlockSpec, t: GemmTile): string {
  const c4 = spec.channels / 4;
  const d4 = spec.hidden / 4;
  const off = packedOffsets(spec.channels, spec.hidden);
  const k = stage === 'expand' ? spec.channels : spec.hidden;
  const n4 = stage === 'expand' ? d4 : c4;
  const k4 = k / 4;
  const wOff = stage === 'expand' ? off.w1 : off.w2;
  const bOff = stage === 'expand' ? off.b1 : off.b2;
  const tx = t.bn / 4 / t.tn4;
  const ty = t.bm / t.tm;
  const threads = tx * ty;
  const loads = loadsPerThread(t);
  const steps = k / t.bk;
  const tilesN = n4 / (t.bn / 4);
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  const acc = (i: number, j: number) => `acc${i * t.tn4 + j}`;

  const loadA = range(loads.a).map((l) => `{
      let e = lid + ${l * threads}u; let r = e / ${t.bk / 4}u; let q = e % ${t.bk / 4}u;
      ra${l} = select(vec4<f32>(0.0), a[(m0 + r) * ${k4}u + k0 / 4u + q], m0 + r < rows); }`).join('');
  // Transposed into As[k][m]: a thread's tm row values of one k are then one load each (rowVec4: As holds
  // vec4s of 4 consecutive rows, and a thread's tm consecutive rows are tm / 4 loads).
  const bm4 = t.bm / 4;
  const aElement = (kIndex: string, r: string) => t.rowVec4 ? `As[(${kIndex}) * ${bm4}u + ${r} / 4u][${r} % 4u]` :
    `As[(${kIndex}) * ${t.bm}u + ${r}]`;
  const storeA = range(loads.a).map((l) => `{
      let e = lid + ${l * threads}u; let r = e / ${t.bk / 4}u; let q = e % ${t.bk / 4}u;
      ${['x', 'y', 'z', 'w'].map((c, i) => `${aElement(`4u * q + ${i}u`, 'r')} = ra${l}.${c};`).join(' ')} }`).join('');
  const rowOf = (i: number) => t.rowVec4 ? `ty * ${t.tm}u + ${i}u` : `ty + ${i * ty}u`;
  const aLoads = t.rowVec4 ?
    range(t.tm / 4).map((v) => `let avv${v} = As[kk * ${bm4}u + ty * ${t.tm / 4}u + ${v}u];`).concat(
      range(t.tm).map((i) => `let av${i} = avv${Math.floor(i / 4)}.${['x', 'y', 'z', 'w'][i % 4]};`)) :
    range(t.tm).map((i) => `let av${i} = As[kk * ${t.bm}u + ty + ${i * ty}u];`);
  const loadB = range(loads.b).map((l) => `{
      let e = lid + ${l * threads}u; let r = e / ${t.bn / 4}u; let q = e % ${t.bn / 4}u;
      rb${l} = mlp[${wOff}u + (k0 + r) * ${n4}u + n0 + q]; }`).join('');
  const storeB = range(loads.b).map((l) => `Bs[lid + ${l * threads}u] = rb${l};`).join(' ');
  const fmas = [
    ...aLoads,
    ...range(t.tn4).map((j) => `let bv${j} = Bs[kk * ${t.bn / 4}u + tx + ${j * tx}u];`),
    ...range(t.tm).flatMap((i) => range(t.tn4).map((j) => `${acc(i, j)} = fma(vec4<f32>(av${i}), bv${j}, ${acc(i, j)});`)),
  ].join('\n        ');
  const epilogue = (v: string, row: string, col: string) => stage === 'expand' ?
    `activation(${v} + mlp[${bOff}u + ${col}])` :
    `${v} + mlp[${bOff}u + ${col}]${spec.residual ? ` + x[${row} * ${c4}u + ${col}]` : ''}`;
  const stores = range(t.tm).map((i) => `{
    let row = m0 + ${rowOf(i)};
    if (row < rows) {
      ${range(t.tn4).map((j) => `{ let col = n0 + tx + ${j * tx}u;
        result[row * ${n4}u + col] = ${epilogue(acc(i, j), 'row', 'col')}; }`).join('\n      ')}
    }
  }`).join('');

  return `
var<workgroup> As: array<${t.rowVec4 ? 'vec4<f32>' : 'f32'}, ${t.rowVec4 ? t.bk * bm4 : t.bk * t.bm}>;
var<workgroup> Bs: array<vec4<f32>, ${t.bk * t.bn / 4}>;
${stage === 'expand' ? wgslActivationFunction(spec.activation) : ''}

fn main(index: i32) {
  let lid = localIndex;
  // The backend may reshape a long 1-D dispatch into 2-D/3-D: linearize the workgroup id.
  let group = workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x;
  let rows = u32(uniforms.rows);
  // Column tiles fastest: neighbouring workgroups share the same A rows (in L2) and walk all of W.
  let m0 = (group / ${tilesN}u) * ${t.bm}u;
  let n0 = (group % ${tilesN}u) * ${t.bn / 4}u;
  let tx = lid % ${tx}u;
  let ty = lid / ${tx}u;
  ${range(t.tm * t.tn4).map((i) => `var acc${i} = vec4<f32>(0.0);`).join(' ')}
  ${range(loads.a).map((l) => `var ra${l}: vec4<f32>;`).join(' ')}
  ${range(loads.b).map((l) => `var rb${l}: vec4<f32>;`).join(' ')}
  var k0 = 0u;
  ${loadA}
  ${loadB}
  for (var step = 0u; step < ${steps}u; step++) {
    ${storeA}
    ${storeB}
    workgroupBarrier();
    k0 = (step + 1u) * ${t.bk}u;
    // Next step's loads in flight during this step's FMAs.
    if (step + 1u < ${steps}u) {
      ${loadA}
      ${loadB}
    }
    for (var kk = 0u; kk < ${t.bk}u; kk++) {
        ${fmas}
    }
    workgroupBarrier();
  }
  // Rows past M (a partial last tile) computed zeros and write nothing.
  ${stores}
}
`;
}

/** Workgroups of one stage's dispatch for M rows. */
export function gemmWorkgroups(stage: GemmStage, spec: BlockSpec, t: GemmTile, rows: number): number {
  const n = stage === 'expand' ? spec.hidden : spec.channels;
  return Math.ceil(rows / t.bm) * (n / t.bn);
}
