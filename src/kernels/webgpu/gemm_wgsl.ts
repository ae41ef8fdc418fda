/**
 * The register-tiled GEMM shared by every large-batch matmul on WebGPU: the gemm-mlp block's expand and
 * project (mlp_gemm_wgsl.ts) and the patch convs' GEMM path (patch_conv_gemm.ts). A caller describes its
 * operands (how a vec4 of A and of B is read, the epilogue); this file owns the tiling and the loop.
 *
 * Layout: a workgroup owns a bm x bn output tile; thread (tx, ty) owns rows ty * tm + i (rowVec4) or
 * ty + i * (bm / tm), and vec4 columns tx + j * (bn / 4 / tn4) (strided, so a warp's loads of a k row are
 * contiguous). Each step of bk reduction rows stages A (transposed, so a thread's tm row values are one load each)
 * and B in workgroup memory; the next step's global loads are issued into registers before this step's FMAs.
 * Index math is u32 (Tint clamps every array index for robustness; an unsigned index needs no lower bound).
 * Split-K (kSplits S > 1): workgroup `group` reduces k in [s K / S, (s + 1) K / S) of its tile and writes raw
 * partial sums [S, M, N]; a summing dispatch (split_sum_wgsl.ts) applies the epilogue.
 */
import { floatLiteral } from '../../spec/activations.js';

export interface GemmTile {
  bm: number; bn: number; bk: number; tm: number; tn4: number;
  /**
   * A thread's tm rows are consecutive (ty * tm + i) instead of strided (ty + i * bm / tm), so its A values of
   * one k are tm / 4 vec4 loads from workgroup memory instead of tm scalar ones (tm a multiple of 4).
   */
  rowVec4?: boolean;
  /**
   * The k loop of a step written out (kk a literal) over 2-D workgroup arrays [bk][...]: an access's runtime
   * index (and the bounds clamp Tint puts on it) is then the same for every kk, so it is computed once instead of
   * once per load; only the literal row offset changes.
   */
  unrolled?: boolean;
  /**
   * Rows of threads (ty values) per 32-lane warp: lanes arranged as (32 / laneRows) columns x laneRows rows
   * instead of row-major over the whole workgroup. A warp's B loads of one k then span fewer distinct vec4s
   * (fewer workgroup-memory wavefronts per FMA) while its A loads stay broadcasts. Absent: row-major.
   */
  laneRows?: number;
}

/**
 * A tile whose threads own consecutive rows, its k loop written out (the measured defaults all are; the overrides'
 * `gemmUnrolled` knobs turn the latter off for the A/B: H200 sweep, BENCHMARKS.md "Late pass", 4-7% faster on the
 * wide N=32 blocks).
 */
export const rowVec4Tile = (bm: number, bn: number, bk: number, tm: number, tn4: number): GemmTile =>
  ({ bm, bn, bk, tm, tn4, rowVec4: true, unrolled: true });

/** One GEMM  out[M, N] = epilogue(A[M, K] B[K, N]), M a uniform (`uniforms.rows`), K and N baked in. */
export interface GemmOperands {
  k: number;
  n: number;
  /** WGSL: the vec4 A[m, 4 kq .. 4 kq + 3] (m < rows, u32 expressions). */
  aLoad: (m: string, kq: string) => string;
  /** WGSL: the vec4 B[kr, 4 col .. 4 col + 3]. */
  bLoad: (kr: string, col: string) => string;
  /** WGSL: the output vec4 from accumulator `v` at output `row`, vec4 column `col` (not used with split-K). */
  epilogue: (v: string, row: string, col: string) => string;
  /** Module-scope WGSL the loads or the epilogue call (helper functions). */
  declarations?: string;
  /**
   * Moments of each A row over this workgroup's K range (its split), for a LayerNorm folded past the GEMM: WGSL
   * storing `value` = vec4(mean, M2, 0, 0) (M2 = sum of squared deviations) for `row` (< rows). Needs a tile
   * for which gemmMomentsFit holds.
   */
  rowMoments?: (row: string, value: string) => string;
  /**
   * A LayerNorm of each output row after the epilogue: (v - mean) rsqrt(var + epsilon) gamma + beta over the n
   * columns, gamma / beta read by `gamma(col)` / `beta(col)` (vec4 columns). Needs the tile to span all n columns
   * and no split (gemmRowNormFits).
   */
  rowNorm?: { gamma: (col: string) => string; beta: (col: string) => string; epsilon: number };
}

export function gemmThreads(t: GemmTile): number {
  return (t.bn / 4 / t.tn4) * (t.bm / t.tm);
}

/** Per-thread counts of vec4 loads of A and B per step; whole numbers for a valid tile. */
function loadsPerThread(t: GemmTile): { a: number; b: number } {
  const threads = gemmThreads(t);
  return { a: (t.bm * t.bk / 4) / threads, b: (t.bk * t.bn / 4) / threads };
}

/** Workgroup memory of a tile's A and B buffers. */
export function gemmStorageBytes(t: GemmTile): number {
  return (t.bm * t.bk + t.bk * t.bn) * 4;
}

/** Whether tile `t` divides a GEMM of reduction depth k and width n, within the thread and storage limits. */
export function gemmTileFitsShape(t: GemmTile, n: number, k: number, maxThreads: number, maxStorage: number): boolean {
  const l = loadsPerThread(t);
  return n % t.bn === 0 && k % t.bk === 0 && t.bm % t.tm === 0 && t.bn % (4 * t.tn4) === 0 &&
    gemmStorageBytes(t) <= maxStorage &&
    (!t.rowVec4 || t.tm % 4 === 0) && laneLayoutFits(t) &&
    gemmThreads(t) <= maxThreads && Number.isInteger(l.a) && Number.isInteger(l.b) && l.a >= 1 && l.b >= 1;
}

/** Whether a tile's laneRows (if any) tiles its threads into whole 32-lane warps. */
function laneLayoutFits(t: GemmTile): boolean {
  if (t.laneRows == null) return true;
  const laneCols = 32 / t.laneRows;
  return Number.isInteger(laneCols) && (t.bn / 4 / t.tn4) % laneCols === 0 && (t.bm / t.tm) % t.laneRows === 0;
}

/** Whether the reduction of depth k splits into `s` parts of whole bk steps. */
export function gemmSplitFits(k: number, t: GemmTile, s: number): boolean {
  return Number.isInteger(s) && s >= 1 && k % (s * t.bk) === 0;
}

/**
 * Whether a tile can gather row moments (GemmOperands.rowMoments): rowVec4 and unrolled (A staged as vec4s of 4
 * rows in [bk][bm / 4]), and its threads cover the bm / 4 row vectors in lanes that divide bk evenly.
 */
export function gemmMomentsFit(t: GemmTile): boolean {
  const groups = t.bm / 4;
  const lanes = gemmThreads(t) / groups;
  return t.rowVec4 === true && t.unrolled === true && Number.isInteger(lanes) && t.bk % lanes === 0;
}

/** Whether a GEMM of width n can end in a row LayerNorm (GemmOperands.rowNorm): one column tile, no split. */
export function gemmRowNormFits(t: GemmTile, n: number, kSplits: number): boolean {
  return t.bn === n && kSplits === 1;
}

/** Workgroup memory the row LayerNorm adds to a tile (one partial sum per row and thread column). */
export function gemmRowNormBytes(t: GemmTile): number {
  return 4 * t.bm * (t.bn / 4 / t.tn4);
}

/** Workgroup memory the row moments add to a tile (two vec4s per thread for the lanes' meeting). */
export function gemmMomentsBytes(t: GemmTile): number {
  return 2 * 16 * gemmThreads(t);
}

/** Workgroups of a GEMM of M rows and width n (times the reduction splits). */
export function gemmWorkgroupCount(t: GemmTile, rows: number, n: number, kSplits = 1): number {
  return Math.ceil(rows / t.bm) * (n / t.bn) * kSplits;
}

/** The tile's part of a shader key. */
export function gemmTileKey(t: GemmTile, kSplits = 1): string {
  return `bm${t.bm}_bn${t.bn}_bk${t.bk}_tm${t.tm}_tn${t.tn4}${t.rowVec4 ? '_rv' : ''}${t.unrolled ? '_ur' : ''}` +
    (t.laneRows != null ? `_lr${t.laneRows}` : '') +
    (kSplits > 1 ? `_ks${kSplits}` : '');
}

/** WGSL (tfjs-backend-webgpu `main(index)` convention) of one GEMM; output `result` [M, N] or partials [S, M, N]. */
export function gemmSource(ops: GemmOperands, t: GemmTile, kSplits = 1): string {
  const { k } = ops;
  const n4 = ops.n / 4;
  if (!gemmSplitFits(k, t, kSplits)) throw new Error(`GEMM: ${kSplits} reduction splits do not divide K = ${k} into ${t.bk}-deep steps`);
  const tx = t.bn / 4 / t.tn4;
  const ty = t.bm / t.tm;
  const threads = tx * ty;
  const loads = loadsPerThread(t);
  // Split-K: workgroup `group` reduces k in [split * K / S, (split + 1) * K / S) for its output tile.
  const steps = k / kSplits / t.bk;
  const tilesN = n4 / (t.bn / 4);
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  const acc = (i: number, j: number) => `acc${i * t.tn4 + j}`;

  const loadA = range(loads.a).map((l) => `{
      let e = lid + ${l * threads}u; let r = e / ${t.bk / 4}u; let q = e % ${t.bk / 4}u;
      ra${l} = select(vec4<f32>(0.0), ${ops.aLoad('min(m0 + r, rows - 1u)', 'k0 / 4u + q')}, m0 + r < rows); }`).join('');
  // Transposed into As[k][m]: a thread's tm row values of one k are then one load each (rowVec4: As holds
  // vec4s of 4 consecutive rows, and a thread's tm consecutive rows are tm / 4 loads).
  const bm4 = t.bm / 4;
  const bn4 = t.bn / 4;
  const ur = t.unrolled === true;
  const aRowLen = t.rowVec4 ? bm4 : t.bm;
  /** As / Bs element (k row `kIndex`, column `col`): 2-D arrays when unrolled, flat [bk * width] otherwise. */
  const aAt = (kIndex: string, col: string) => ur ? `As[${kIndex}][${col}]` : `As[(${kIndex}) * ${aRowLen}u + ${col}]`;
  const bAt = (kIndex: string, col: string) => ur ? `Bs[${kIndex}][${col}]` : `Bs[(${kIndex}) * ${bn4}u + ${col}]`;
  const aElement = (kIndex: string, r: string) => t.rowVec4 ? `${aAt(kIndex, `${r} / 4u`)}[${r} % 4u]` : aAt(kIndex, r);
  const storeA = range(loads.a).map((l) => `{
      let e = lid + ${l * threads}u; let r = e / ${t.bk / 4}u; let q = e % ${t.bk / 4}u;
      ${['x', 'y', 'z', 'w'].map((c, i) => `${aElement(`4u * q + ${i}u`, 'r')} = ra${l}.${c};`).join(' ')} }`).join('');
  // A thread's columns of As (its rows of the tile) and of Bs: fixed for the whole loop.
  const aCols = t.rowVec4 ? range(t.tm / 4).map((v) => `ty * ${t.tm / 4}u + ${v}u`) : range(t.tm).map((i) => `ty + ${i * ty}u`);
  const bCols = range(t.tn4).map((j) => `tx + ${j * tx}u`);
  const rowOf = (i: number) => t.rowVec4 ? `ty * ${t.tm}u + ${i}u` : `ty + ${i * ty}u`;
  /** The output vec4 column of a thread's accumulator column j (the stores and the row LayerNorm's epilogue). */
  const colOf = (j: number) => `n0 + tx + ${j * tx}u`;
  const loadB = range(loads.b).map((l) => `{
      let e = lid + ${l * threads}u; let r = e / ${bn4}u; let q = e % ${bn4}u;
      rb${l} = ${ops.bLoad('k0 + r', 'n0 + q')}; }`).join('');
  const storeB = range(loads.b).map((l) => ur ?
    `{ let e = lid + ${l * threads}u; Bs[e / ${bn4}u][e % ${bn4}u] = rb${l}; }` : `Bs[lid + ${l * threads}u] = rb${l};`).join(' ');
  /** The FMAs of reduction row `kk` (a WGSL expression, or a literal when unrolled). */
  const fmasOf = (kk: string) => [
    ...(t.rowVec4 ?
      range(t.tm / 4).map((v) => `let avv${v} = ${aAt(kk, ur ? `ac${v}` : aCols[v])};`).concat(
        range(t.tm).map((i) => `let av${i} = avv${Math.floor(i / 4)}.${['x', 'y', 'z', 'w'][i % 4]};`)) :
      range(t.tm).map((i) => `let av${i} = ${aAt(kk, ur ? `ac${i}` : aCols[i])};`)),
    ...range(t.tn4).map((j) => `let bv${j} = ${bAt(kk, ur ? `bc${j}` : bCols[j])};`),
    ...range(t.tm).flatMap((i) => range(t.tn4).map((j) => `${acc(i, j)} = fma(vec4<f32>(av${i}), bv${j}, ${acc(i, j)});`)),
  ].join('\n        ');
  const stepFmas = ur ? range(t.bk).map((kk) => `{\n        ${fmasOf(`${kk}u`)}\n    }`).join('\n    ') :
    `for (var kk = 0u; kk < ${t.bk}u; kk++) {\n        ${fmasOf('kk')}\n    }`;
  const split = kSplits > 1;
  const m = momentsCode(ops, t, threads);
  const norm = ops.rowNorm;
  if (norm != null && !gemmRowNormFits(t, ops.n, kSplits)) {
    throw new Error(`GEMM: a row LayerNorm needs one column tile (bn ${t.bn} = n ${ops.n}) and no split (S ${kSplits})`);
  }
  const normCode = norm == null ? '' : rowNormCode(t, tx, ops.n, rowOf, acc, norm.epsilon,
    (i, j) => ops.epilogue(acc(i, j), `(m0 + ${rowOf(i)})`, colOf(j)));
  const stores = range(t.tm).map((i) => `{
    let row = m0 + ${rowOf(i)};
    if (row < rows) {
      ${range(t.tn4).map((j) => `{ let col = ${colOf(j)};
        ${split ? `result[(split * rows + row) * ${n4}u + col] = ${acc(i, j)};` : norm != null ?
          `result[row * ${n4}u + col] = (${acc(i, j)} - mean${i}) * rstd${i} * ${norm.gamma('col')} + ${norm.beta('col')};` :
          `result[row * ${n4}u + col] = ${ops.epilogue(acc(i, j), 'row', 'col')};`} }`).join('\n      ')}
    }
  }`).join('');

  return `
${ur ? `var<workgroup> As: array<array<${t.rowVec4 ? 'vec4<f32>' : 'f32'}, ${aRowLen}>, ${t.bk}>;
var<workgroup> Bs: array<array<vec4<f32>, ${bn4}>, ${t.bk}>;` :
  `var<workgroup> As: array<${t.rowVec4 ? 'vec4<f32>' : 'f32'}, ${t.bk * aRowLen}>;
var<workgroup> Bs: array<vec4<f32>, ${t.bk * bn4}>;`}
${m.declarations}
${norm == null ? '' : `var<workgroup> normPart: array<f32, ${t.bm * tx}>;`}
${ops.declarations ?? ''}

fn main(index: i32) {
  let lid = localIndex;
  // The backend may reshape a long 1-D dispatch into 2-D/3-D: linearize the workgroup id.
  let group = workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x;
  let rows = u32(uniforms.rows);
  ${split ? `// The split index outermost: the S workgroups of one output tile are far apart in the launch.
  let tilesPerSplit = ((rows + ${t.bm - 1}u) / ${t.bm}u) * ${tilesN}u;
  let split = group / tilesPerSplit;
  let tileIndex = group % tilesPerSplit;
  let kBase = split * ${k / kSplits}u;` : `let tileIndex = group;
  let kBase = 0u;`}
  // Column tiles fastest: neighbouring workgroups share the same A rows (in L2) and walk all of W.
  let m0 = (tileIndex / ${tilesN}u) * ${t.bm}u;
  let n0 = (tileIndex % ${tilesN}u) * ${t.bn / 4}u;
  ${t.laneRows == null ? `let tx = lid % ${tx}u;
  let ty = lid / ${tx}u;` : `// Warp w covers ${32 / t.laneRows} thread columns x ${t.laneRows} thread rows.
  let lane = lid % 32u;
  let warp = lid / 32u;
  let tx = (warp % ${tx / (32 / t.laneRows)}u) * ${32 / t.laneRows}u + lane % ${32 / t.laneRows}u;
  let ty = (warp / ${tx / (32 / t.laneRows)}u) * ${t.laneRows}u + lane / ${32 / t.laneRows}u;`}${ur ? `
  ${aCols.map((c, v) => `let ac${v} = ${c};`).join(' ')}
  ${bCols.map((c, j) => `let bc${j} = ${c};`).join(' ')}` : ''}
  ${range(t.tm * t.tn4).map((i) => `var acc${i} = vec4<f32>(0.0);`).join(' ')}${m.init}
  ${range(loads.a).map((l) => `var ra${l}: vec4<f32>;`).join(' ')}
  ${range(loads.b).map((l) => `var rb${l}: vec4<f32>;`).join(' ')}
  var k0 = kBase;
  ${loadA}
  ${loadB}
  for (var step = 0u; step < ${steps}u; step++) {
    ${storeA}
    ${storeB}
    workgroupBarrier();
    k0 = kBase + (step + 1u) * ${t.bk}u;
    // Next step's loads in flight during this step's FMAs.
    if (step + 1u < ${steps}u) {
      ${loadA}
      ${loadB}
    }
    ${m.step}${stepFmas}
    workgroupBarrier();
  }${m.finish}
  // Rows past M (a partial last tile) computed zeros and write nothing.${split ? ' Partials: no epilogue.' : ''}
  ${normCode}
  ${stores}
}
`;
}

/**
 * GemmOperands.rowMoments: each thread keeps Welford moments (4 rows at once, a vec4 of As) of its lane's k rows of
 * every staged step (row vector q = lid % (bm / 4), k rows lane, lane + L, ..), then the L lanes of a row vector
 * meet in workgroup memory (Chan's combination; equal counts) and one thread per row vector stores its 4 rows.
 * Welford rather than sums of squares: no cancellation when a row's mean is large next to its spread.
 */
function momentsCode(ops: GemmOperands, t: GemmTile, threads: number) {
  const none = { declarations: '', init: '', step: '', finish: '' };
  if (ops.rowMoments == null) return none;
  if (!gemmMomentsFit(t)) throw new Error(`GEMM: row moments need a rowVec4, unrolled tile whose threads split bk evenly (got ${gemmTileKey(t)})`);
  const groups = t.bm / 4;
  const lanes = threads / groups;
  const perLane = Array.from({ length: t.bk / lanes }, (_, i) => i);
  const laneIndex = (l: number) => (l === 0 ? 'lid' : `lid + ${l * groups}u`);
  const allLanes = Array.from({ length: lanes }, (_, l) => l);
  return {
    declarations: `var<workgroup> momentMean: array<vec4<f32>, ${threads}>;
var<workgroup> momentM2: array<vec4<f32>, ${threads}>;`,
    init: `
  // Row moments: row vector mq (rows 4 mq .. 4 mq + 3), k rows ml, ml + ${lanes}, .. of each step.
  let mq = lid % ${groups}u;
  let ml = lid / ${groups}u;
  var mMean = vec4<f32>(0.0);
  var mM2 = vec4<f32>(0.0);
  var mCount = 0.0;`,
    // One scalar reciprocal per value (a vec4 division would be four).
    step: perLane.map((i) => `{ let v = As[ml + ${i * lanes}u][mq]; mCount += 1.0; let d = v - mMean; ` +
      'mMean += d * (1.0 / mCount); mM2 += d * (v - mMean); }\n    ').join(''),
    finish: `
  momentMean[lid] = mMean;
  momentM2[lid] = mM2;
  workgroupBarrier();
  if (lid < ${groups}u) {
    let mean = (${allLanes.map((l) => `momentMean[${laneIndex(l)}]`).join(' + ')}) / ${lanes}.0;
    var m2 = vec4<f32>(0.0);
    ${allLanes.map((l) => `{ let d = momentMean[${laneIndex(l)}] - mean; m2 += momentM2[${laneIndex(l)}] + mCount * d * d; }`)
      .join('\n    ')}
    ${['x', 'y', 'z', 'w'].map((c, i) => `{ let row = m0 + lid * 4u + ${i}u;
      if (row < rows) { ${ops.rowMoments!('row', `vec4<f32>(mean.${c}, m2.${c}, 0.0, 0.0)`)} } }`).join('\n    ')}
  }`,
  };
}

/**
 * GemmOperands.rowNorm: the epilogue's values replace the accumulators, then two-pass moments per row (as
 * FusedLayerNorm): each thread's partial sum over its columns of a row goes to workgroup memory [bm][thread
 * columns], the row's thread columns add them in a fixed order, then the same for the squared deviations. Rows past
 * M compute garbage statistics of their own and are not stored.
 */
function rowNormCode(t: GemmTile, threadCols: number, n: number, rowOf: (i: number) => string,
  acc: (i: number, j: number) => string, epsilon: number, value: (i: number, j: number) => string): string {
  const rows = Array.from({ length: t.tm }, (_, i) => i);
  const cols = Array.from({ length: t.tn4 }, (_, j) => j);
  const slot = (i: number, c: string) => `normPart[(${rowOf(i)}) * ${threadCols}u + ${c}]`;
  const rowSum = (i: number) => Array.from({ length: threadCols }, (_, c) => slot(i, `${c}u`)).join(' + ');
  const one = 'vec4<f32>(1.0)';
  return `// Row LayerNorm over the ${n} columns (this tile holds them all): two-pass moments through workgroup memory.
  ${rows.flatMap((i) => cols.map((j) => `${acc(i, j)} = ${value(i, j)};`)).join('\n  ')}
  // Each row shifted by its first value (column 0, the tx = 0 thread's): equal values give exactly 0 deviations
  // (y = beta), which a sum divided by n (rounded, and by a reciprocal on GPUs) does not.
  if (tx == 0u) { ${rows.map((i) => `${slot(i, '0u')} = ${acc(i, 0)}.x;`).join(' ')} }
  workgroupBarrier();
  ${rows.map((i) => `let shift${i} = ${slot(i, '0u')};`).join('\n  ')}
  workgroupBarrier();
  ${rows.flatMap((i) => cols.map((j) => `${acc(i, j)} -= vec4<f32>(shift${i});`)).join('\n  ')}
  ${rows.map((i) => `${slot(i, 'tx')} = dot(${cols.map((j) => acc(i, j)).join(' + ')}, ${one});`).join('\n  ')}
  workgroupBarrier();
  ${rows.map((i) => `let mean${i} = (${rowSum(i)}) / ${n}.0;`).join('\n  ')}
  workgroupBarrier();
  ${rows.map((i) => `${slot(i, 'tx')} = ${cols.map((j) => `dot(${acc(i, j)} - mean${i}, ${acc(i, j)} - mean${i})`).join(' + ')};`)
    .join('\n  ')}
  workgroupBarrier();
  ${rows.map((i) => `let rstd${i} = inverseSqrt((${rowSum(i)}) / ${n}.0 + ${floatLiteral(epsilon)});`).join('\n  ')}`;
}
