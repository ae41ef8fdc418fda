/**
 * WGSL for FusedPatchConv (tiling in patch_conv_plan.ts). A row m of the GEMM is the patch of output
 * pixel (n, i, j); its reduction index kk = (dy k + dx) Cin + c reads x[n, i k + dy, j k + dx, c], so for
 * each dy the k Cin values of a patch row are one contiguous run of x: the A-slice loads are coalesced
 * along kk. With preNorm every input pixel belongs to exactly one patch: its mean and rstd are computed
 * once per workgroup (two passes over its Cin values, as FusedLayerNorm, statLanes threads per pixel), and A
 * is staged normalized;
 * gamma and beta live in the folded weights (PatchConvFoldProgram).
 *
 * Split-K (plan.kSplits S > 1): workgroup `group` is split `group % S` of tile `group / S`; it walks its K range
 * [s L, min((s + 1) L, depth)) (L = splitDepth), computes the statistics of only the splitPositions patch positions that range
 * reads, and writes its partial sums (no bias) to slab s of [S, M, Cout]; `patchConvSplitSumSource` adds them.
 */
import { floatLiteral } from '../../spec/activations.js';
import type { PatchConvPlan } from './patch_conv_plan.js';
import { splitSumSource } from './split_sum_wgsl.js';

export function patchConvShaderKey(p: PatchConvPlan, epsilon: number, hasBias: boolean): string {
  const t = p.tiling;
  return `fusedPatchConv_k${p.k}_h${p.h}_w${p.w}_ci${p.cin}_co${p.cout}_n${+p.preNorm}_e${p.preNorm ? epsilon : 0}` +
    `_b${+hasBias}_r${t.rows}_c${t.cols}_tr${t.threadRows}_tc${t.threadCols}_ks${t.kSlice}_sl${t.statLanes}` +
    // splitDepth and splitPositions follow from k, Cin, kSlice and S.
    (p.kSplits > 1 ? `_s${p.kSplits}` : '');
}

/** Output vector `idx`'s bias: its own input; with preNorm the folded b' after W' in `w`; none: zero. */
function patchConvBias(p: PatchConvPlan, hasBias: boolean, idx: string): string {
  if (p.preNorm) return `w[${patchConvFoldedOffsets(p.depth, p.cin, p.cout).bias / p.components} + ${idx}]`;
  return hasBias ? `bias[${idx}]` : `${p.components === 4 ? 'vec4<f32>' : 'f32'}(0.0)`;
}

/** Dispatch 2 of the split-K form: every value baked into patchConvSplitSumSource. */
export function patchConvSplitSumKey(p: PatchConvPlan, hasBias: boolean, workgroupSize: number): string {
  return `fusedPatchConvSplitSum_co${p.cout}_d${p.depth}_n${+p.preNorm}_b${+hasBias}_s${p.kSplits}_wg${workgroupSize}`;
}

/**
 * Dispatch 2 of the split-K form (split_sum_wgsl.ts, shared with the block's split-hidden variant): the S
 * partials summed in a fixed order, plus the bias. Inputs: partials, then w (preNorm: b' is in it) or bias.
 */
export function patchConvSplitSumSource(p: PatchConvPlan, hasBias: boolean, workgroupSize: number): string {
  return splitSumSource({ splits: p.kSplits, workgroupSize, rowVectors: p.cout / p.components,
    epilogue: (sum) => (p.preNorm || hasBias ? `${sum} + ${patchConvBias(p, hasBias, 'cv')}` : sum) });
}

export function patchConvShaderSource(p: PatchConvPlan, epsilon: number, hasBias: boolean): string {
  const { k, h, w, cin, ho, wo, depth, xComponents: xc, components: oc } = p;
  const { rows, cols, threadRows: tr, threadCols: tc, workgroupSize: wg, tileM, tileNV, kSlice: ks } = p.tiling;
  const coutV = p.cout / oc;
  const vec = oc === 4 ? 'vec4<f32>' : 'f32';
  const xvec = xc === 4 ? 'vec4<f32>' : 'f32';
  const xTotal = (v: string) => (xc === 4 ? `dot(${v}, vec4<f32>(1.0))` : v);
  const kk2 = k * k;
  const splits = p.kSplits;
  // Bias: its own input; with preNorm the folded b' after W' in the packed weights; with a split, in the sum.
  const bias = splits > 1 ? '' : ` + ${patchConvBias(p, hasBias, 'col')}`;
  // Patch positions with statistics per output row: all k k, or (split) those of the split's K range from q0.
  const positions = p.splitPositions;
  // Statistics: T lanes per input pixel, P = floor(wg / T) pixels per round; each lane sums every T-th vector of
  // its pixel, the lanes' sums meet in statSum by a tree reduction (barriers in uniform control flow).
  const lanes = p.tiling.statLanes;
  const perRound = Math.floor(wg / lanes);
  const pixels = tileM * positions;
  const strides: number[] = [];
  for (let st = lanes / 2; st >= 1; st /= 2) strides.push(st);
  const laneSum = (v: string) => `statSum[lid] = ${v};
      workgroupBarrier();
${strides.map((st) => `      if (lane < ${st}${wg % lanes === 0 ? '' : ` && lid < ${perRound * lanes}`}) { statSum[lid] += statSum[lid + ${st}]; }
      workgroupBarrier();`).join('\n')}
      let total_${v} = statSum[lid - lane];
      workgroupBarrier();`;
  const stats = p.preNorm ? `
  // Mean and rstd of the tile's ${tileM} x ${positions} input pixels${splits > 1 ? ' at the positions this split reads' : ''} (zeros past the last row).
  for (var s0 = 0; s0 < ${pixels}; s0 += ${perRound}) {
    let lane = lid % ${lanes};
    let s = s0 + lid / ${lanes};
    let m = m0 + s / ${positions};
    let q = ${splits > 1 ? 'q0 + ' : ''}s % ${positions};
    let ok = lid < ${perRound * lanes} && s < ${pixels} && m < rows${splits > 1 ? ` && q < ${kk2}` : ''};
    var base = 0;
    if (ok) { base = (rowBase(m) + (q / ${k}) * ${w * cin} + (q % ${k}) * ${cin}) / ${xc}; }
    // Moments of the pixel shifted by its first channel: equal channels give exactly mean = that value and variance 0
    // (y = beta), which a sum divided by Cin (rounded, and by a reciprocal on GPUs) does not.
    var shift = 0.0;
    var sum = 0.0;
    if (ok) {
      shift = x[base]${xc === 4 ? '.x' : ''};
      for (var c = lane; c < ${cin / xc}; c += ${lanes}) { sum += ${xTotal('(x[base + c] - shift)')}; }
    }
    {
      ${laneSum('sum')}
      let mean = total_sum / ${floatLiteral(cin)};
      var sq = 0.0;
      if (ok) {
        for (var c = lane; c < ${cin / xc}; c += ${lanes}) {
          let d = x[base + c] - shift - mean;
          sq += ${xc === 4 ? 'dot(d, d)' : 'd * d'};
        }
      }
      ${laneSum('sq')}
      if (lid < ${perRound * lanes} && s < ${pixels} && lane == 0) {
        pixMean[s] = select(0.0, shift + mean, ok);
        pixRstd[s] = select(0.0, inverseSqrt(total_sq / ${floatLiteral(cin)} + ${floatLiteral(epsilon)}), ok);
      }
    }
  }
  workgroupBarrier();` : '';
  const normalize = p.preNorm ? `
        let slot = ml * ${positions} + dy * ${k} + r / ${cin}${splits > 1 ? ' - q0' : ''};
        v = (v - pixMean[slot]) * pixRstd[slot];` : '';
  const storeA = xc === 4 ?
    [0, 1, 2, 3].map((j) => `As[(kq * 4 + ${j}) * ${tileM} + ml] = v[${j}];`).join('\n      ') :
    `As[kq * ${tileM} + ml] = v;`;
  const fmas: string[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) fmas.push(`acc[${r * cols + c}] = fma(${oc === 4 ? `vec4<f32>(a${r})` : `a${r}`}, b${c}, acc[${r * cols + c}]);`);
  }
  const stores: string[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      stores.push(`{
    let m = m0 + ty + ${r * tr};
    let col = n0 + tx + ${c * tc};
    if (m < rows && col < ${coutV}) { result[${splits > 1 ? 'split * rows * ' + coutV + ' + ' : ''}m * ${coutV} + col] = acc[${r * cols + c}]${bias}; }
  }`);
    }
  }
  return `
var<workgroup> As: array<f32, ${ks * tileM}>;
var<workgroup> Bs: array<${vec}, ${ks * tileNV}>;
${p.preNorm ? `var<workgroup> pixMean: array<f32, ${pixels}>;
var<workgroup> pixRstd: array<f32, ${pixels}>;
var<workgroup> statSum: array<f32, ${wg}>;` : ''}

// Index (in floats) of x[n, i k, j k, 0], the first value of output pixel m's patch.
fn rowBase(m: i32) -> i32 {
  let n = m / ${ho * wo};
  let rem = m - n * ${ho * wo};
  let i = rem / ${wo};
  let j = rem - i * ${wo};
  return ((n * ${h} + i * ${k}) * ${w} + j * ${k}) * ${cin};
}

fn main(index: i32) {
  let lid = i32(localIndex);
  // The backend may reshape a long 1-D dispatch into 2-D/3-D: linearize the workgroup id.
  let group = i32(workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x);
  // GEMM rows (the output, or with a split the S partial slabs, is uniforms.size vectors).
  let rows = uniforms.size / ${splits * coutV};
${splits > 1 ? `  let split = group % ${splits};
  let tile = group / ${splits};
  let kBegin = split * ${p.splitDepth};
  let q0 = kBegin / ${cin};
` : `  let tile = group;
`}  // No early return for workgroups past the end: every thread reaches every barrier.
  let m0 = (tile / ${p.tilesN}) * ${tileM};
  let n0 = (tile % ${p.tilesN}) * ${tileNV};
  let tx = lid % ${tc};
  let ty = lid / ${tc};
${stats}
  var acc: array<${vec}, ${rows * cols}>;
${splits > 1 ? `  // A constant trip count (barriers need uniform control flow); only the last split's last slice passes K.
  for (var step = 0; step < ${p.splitDepth / ks}; step++) {
    let k0 = kBegin + step * ${ks};` : `  for (var k0 = 0; k0 < ${depth}; k0 += ${ks}) {`}
    // A slice: ${tileM} patches x ${ks} values, ${xc === 4 ? 'vec4' : 'scalar'} loads along kk.
    for (var e = lid; e < ${tileM * (ks / xc)}; e += ${wg}) {
      let ml = e / ${ks / xc};
      let kq = e % ${ks / xc};
      let m = m0 + ml;
      let kk = k0 + kq * ${xc};
      var v = ${xvec}(0.0);
      if (m < rows && kk < ${depth}) {
        let dy = kk / ${k * cin};
        let r = kk - dy * ${k * cin};
        v = x[(rowBase(m) + dy * ${w * cin} + r) / ${xc}];${normalize}
      }
      ${storeA}
    }
    // B slice: ${ks} rows of the filter x ${tileNV} output vectors.
    for (var e = lid; e < ${ks * tileNV}; e += ${wg}) {
      let kl = e / ${tileNV};
      let col = n0 + e % ${tileNV};
      let kk = k0 + kl;
      var v = ${vec}(0.0);
      if (kk < ${depth} && col < ${coutV}) { v = w[kk * ${coutV} + col]; }
      Bs[e] = v;
    }
    workgroupBarrier();
    for (var kl = 0; kl < ${ks}; kl++) {
${Array.from({ length: rows }, (_, r) => `      let a${r} = As[kl * ${tileM} + ty + ${r * tr}];`).join('\n')}
${Array.from({ length: cols }, (_, c) => `      let b${c} = Bs[kl * ${tileNV} + tx + ${c * tc}];`).join('\n')}
      ${fmas.join('\n      ')}
    }
    workgroupBarrier();
  }
  ${stores.join('\n  ')}
}
`;
}

/**
 * The fold of the pre-LayerNorm into the weights: W' = gamma[c] W, b' = bias + sum_kk beta[c] W, then (for the GEMM
 * path's folded norm, patch_conv_gemm.ts) the column sums of W' per patch position p: colSum[p, o] =
 * sum_c W'[p Cin + c, o]. Layout [W' (depth x Cout) | b' (Cout) | colSum (depth / Cin x Cout)].
 */
export function patchConvFoldSource(depth: number, cin: number, cout: number, hasBias: boolean): string {
  const off = patchConvFoldedOffsets(depth, cin, cout);
  return `
fn main(index: i32) {
  if (index >= uniforms.size) { return; }
  if (index < ${off.bias}) {
    setOutputAtIndex(index, convWeights[index] * gamma[(index / ${cout}) % ${cin}]);
  } else if (index < ${off.colSum}) {
    let o = index - ${off.bias};
    var v = ${hasBias ? 'bias[o]' : '0.0'};
    for (var kk = 0; kk < ${depth}; kk++) { v += beta[kk % ${cin}] * convWeights[kk * ${cout} + o]; }
    setOutputAtIndex(index, v);
  } else {
    let e = index - ${off.colSum};
    let p = e / ${cout};
    let o = e % ${cout};
    var v = 0.0;
    for (var c = 0; c < ${cin}; c++) { v += gamma[c] * convWeights[(p * ${cin} + c) * ${cout} + o]; }
    setOutputAtIndex(index, v);
  }
}
`;
}

/** Offsets (in floats) of b' and colSum' in the folded patch conv weights [W' | b' | colSum'], and their length. */
export function patchConvFoldedOffsets(depth: number, cin: number, cout: number) {
  return { bias: depth * cout, colSum: depth * cout + cout, length: depth * cout + cout + (depth / cin) * cout };
}
