/**
 * The ONE WGSL generator for the fused residual-block family (ConvNeXt, ConvFirst and their variants):
 *
 *   y = (residual ? x : 0) + W2'^T act(W1'^T norm(conv_k,G(x) + convBias) + b1') + b2'
 *
 * with LayerNorm's gamma/beta folded into W1'/b1' and the layer scale into W2'/b2' by the weight cache
 * (see weight_cache.ts for the packed layout). Everything that changes the text is a field of
 * `BlockShaderParams`, and `blockShaderKey` names every field.
 *
 * Phases of one workgroup (one tile of `tilePixels` consecutive output pixels):
 *   1. conv: each thread computes vec4 channels of the k x k grouped conv into workgroup memory `tileA`;
 *   2. LayerNorm statistics per pixel, then normalize `tileA` in place (gamma/beta are folded);
 *   3. walk D in chunks: expand one chunk (register tiled) -> act -> `tileH` (workgroup memory), then
 *      accumulate the projection of that chunk into per-thread registers. The D-wide hidden tensor never
 *      exists in device memory;
 *   4. add b2' (+ residual x) and write the tile's output once.
 *
 * Split-hidden variant (`tiling.hiddenSplits` S > 1, for shapes with too few tiles to fill the GPU): the
 * same kernel runs S workgroups per tile, each walking D / S hidden channels after recomputing phases 1-2,
 * and phase 4 writes the partial projection to [S, P, C] instead; `splitSumShaderSource` (dispatch 2) adds
 * the S partials, b2' and the residual with the same epilogue code.
 */
import { floatLiteral, wgslActivationFunction } from '../../spec/activations.js';
import type { BlockSpec } from '../../spec/block_spec.js';
import { type BlockTiling, type RegisterTile, rowStride4 } from './tiling.js';
import { splitSumSource } from './split_sum_wgsl.js';

/**
 * 'all' is the block. 'conv' (conv + norm, written out) is dispatch 1 of the gemm-mlp variant (and a phase of
 * the benchmark's time breakdown); 'mlp' (x loaded as the conv output, then the MLP) is a partial kernel with
 * wrong results, only for that breakdown.
 */
export type BlockPhases = 'all' | 'conv' | 'mlp';

export interface BlockShaderParams {
  spec: BlockSpec;
  tiling: BlockTiling;
  phases?: BlockPhases;
}

/** Offsets (in vec4s) of the packed MLP weights: [W1' (C x D) | W2' (D x C) | b1' (D) | b2' (C)]. */
export function packedOffsets(c: number, d: number) {
  return { w1: 0, w2: (c * d) / 4, b1: (2 * c * d) / 4, b2: (2 * c * d + d) / 4, length: 2 * c * d + c + d };
}

/** Every value baked into the shader text (layer scale is folded into the weights, so not baked). */
export function blockShaderKey({ spec, tiling, phases = 'all' }: BlockShaderParams): string {
  const t = tiling;
  const tile = (r: RegisterTile) => `${r.rows}x${r.cols4}_${r.threadRows}x${r.threadCols}_l${r.laneRows}`;
  return `fusedBlock_k${spec.k}_g${spec.groupWidth}_c${spec.channels}_d${spec.hidden}_${spec.norm}` +
    `_e${spec.norm === 'layernorm' ? spec.epsilon : 0}_${spec.activation}_r${+spec.residual}` +
    `_wg${t.workgroupSize}_tp${t.tilePixels}_dc${t.hiddenChunk}_x${tile(t.expand)}_p${tile(t.project)}` +
    `_ke${t.expandSlice}_kp${t.projectSlice}_u${t.unroll}${t.prefetch ? '_pf' : ''}_cs${t.convStrip}${t.convRowLoop ? '_rl' : ''}` + (t.hiddenSplits > 1 ? `_s${t.hiddenSplits}` : '') +
    (phases === 'all' ? '' : `_only_${phases}`);
}

/** The block's epilogue for output vec4 `cv` of pixel `pix`: `value` + b2' (+ the residual x). */
function epilogue(spec: BlockSpec, value: string): string {
  const c4 = spec.channels / 4;
  const off = packedOffsets(spec.channels, spec.hidden);
  return `${value} + mlp[${off.b2} + cv]${spec.residual ? ` + x[pix * ${c4} + cv]` : ''}`;
}

/** Dispatch 2 of the split-hidden variant: every element in the key. */
export function splitSumShaderKey(spec: BlockSpec, splits: number, workgroupSize: number): string {
  return `fusedBlockSplitSum_c${spec.channels}_d${spec.hidden}_s${splits}_r${+spec.residual}_wg${workgroupSize}`;
}

/**
 * Dispatch 2 of the split-hidden variant (split_sum_wgsl.ts): one thread per output vec4 sums the S partials
 * [S, P, C] in a fixed order (deterministic), then the same epilogue as the one-dispatch kernel. Inputs:
 * partials, mlp (for b2'), and x only with a residual.
 */
export function splitSumShaderSource(spec: BlockSpec, splits: number, workgroupSize: number): string {
  return splitSumSource({ splits, workgroupSize, rowVectors: spec.channels / 4, epilogue: (sum) => epilogue(spec, sum) });
}

/** The conv taps at one (ky, kx): accumulate `acc` for output vec4 `cv` from input pixel base `xBase`. */
function convTapCode(g: number, c4: number): string {
  if (g === 1) return 'acc += x[xBase + cv] * convFilter[fBase];';
  if (g === 2) {
    // outputs 4cv..4cv+3 belong to groups 2cv, 2cv, 2cv+1, 2cv+1: inputs (x0,x0,x2,x2) and (x1,x1,x3,x3).
    return `let xv = x[xBase + cv];
          acc += xv.xxzz * convFilter[fBase];
          acc += xv.yyww * convFilter[fBase + ${c4}];`;
  }
  // G >= 4: the 4 outputs share one group whose G inputs are G/4 consecutive vec4s.
  const lanes = ['x', 'y', 'z', 'w'];
  const lines = [`let groupBase = xBase + (cv / ${g / 4}) * ${g / 4};`];
  for (let jj = 0; jj < g / 4; jj++) {
    lines.push(`let xv${jj} = x[groupBase + ${jj}];`);
    for (let l = 0; l < 4; l++) lines.push(`acc += xv${jj}.${lanes[l]} * convFilter[fBase + ${(4 * jj + l) * c4}];`);
  }
  return lines.join('\n          ');
}

/** Kernels up to this size get their taps unrolled at generation time. */
const UNROLL_MAX_K = 7;
/** Adjacent output pixels per thread in the grouped (G >= 4) conv; depthwise uses tiling.convStrip. */
const GROUPED_STRIP = 4;
/**
 * Most input vec4s a grouped strip keeps in registers ((k + 3) x G/4): 3x3 G <= 8, 5x5 and 7x7 G = 4. Larger
 * strips (7x7 G=8: 20) crashed SwiftShader's shader compiler (segfault in Dawn on SwiftShader).
 */
const MAX_STRIP_VEC4 = 12;

/**
 * `${v}Row` / `${v}Col` (thread row and column) and `${v}Active` of this thread in a register tile. A thread
 * owns pixels Row + r * threadRows and vec4 columns Col + s * threadCols (strided, so neighbouring lanes
 * read neighbouring rows and columns: conflict-free with the odd row strides, coalesced for weights).
 * laneRows thread rows are the fastest-varying index of lid, then columns, then blocks of laneRows rows.
 */
function threadCell(v: string, t: RegisterTile): string {
  const lr = t.laneRows;
  const rowIndex = lr === 1 ? `lid / ${t.threadCols}` : `(lid / ${lr * t.threadCols}) * ${lr} + lid % ${lr}`;
  const colIndex = lr === 1 ? `lid % ${t.threadCols}` : `(lid / ${lr}) % ${t.threadCols}`;
  return `let ${v}Row = ${rowIndex};
  let ${v}Col = ${colIndex};
  let ${v}Active = lid < ${t.threadRows * t.threadCols};`;
}

function names(prefix: string, tile: RegisterTile): string[][] {
  return Array.from({ length: tile.rows }, (_, r) => Array.from({ length: tile.cols4 }, (_, s) => `${prefix}${r}_${s}`));
}

/** The user code of the fused block program (tfjs-backend-webgpu supplies bindings, uniforms, `_start`). */
export function blockShaderSource({ spec, tiling, phases = 'all' }: BlockShaderParams): string {
  const c4 = spec.channels / 4;
  const d4 = spec.hidden / 4;
  const { tilePixels: tp, workgroupSize: threads, expand: e, project: p, hiddenSplits: splits } = tiling;
  const split = splits > 1 && phases === 'all';
  const sliceD4 = d4 / (split ? splits : 1);
  const dc4 = tiling.hiddenChunk / 4;
  const k = spec.k;
  const pad = (k - 1) / 2;
  const off = packedOffsets(spec.channels, spec.hidden);
  const lanes = ['x', 'y', 'z', 'w'];
  const hasNorm = spec.norm === 'layernorm';
  // Padded row strides (vec4s) of the conv tile and the hidden chunk in workgroup memory.
  const as4 = rowStride4(c4);
  const hs4 = rowStride4(dc4);
  /** tileA index of element e of the unpadded [tilePixels x C/4] tile. */
  const aIndex = (e: string) => `(${e} / ${c4}) * ${as4} + ${e} % ${c4}`;

  const h = names('h', e);
  const y = names('y', p);
  const expandCells = (fn: (r: number, s: number) => string) =>
    h.flatMap((row, r) => row.map((_, s) => fn(r, s))).join('\n        ');
  const projectCells = (fn: (r: number, s: number) => string) =>
    y.flatMap((row, r) => row.map((_, s) => fn(r, s))).join('\n        ');

  const normCode = !hasNorm ? '' : `
  // LayerNorm statistics, one thread per pixel (two-pass, like tf.moments), then normalize in place. The moments
  // are of the pixel shifted by its first channel: equal channels give exactly mean = that value and variance 0
  // (y = beta), which a sum divided by C (rounded, and by a reciprocal on GPUs) does not.
  for (var pr = lid; pr < ${tp}; pr += ${threads}) {
    let shift = tileA[pr * ${as4}].x;
    var sum = vec4<f32>(0.0);
    for (var cc = 0; cc < ${c4}; cc++) { sum += tileA[pr * ${as4} + cc] - shift; }
    let shiftedMean = dot(sum, vec4<f32>(1.0)) / ${floatLiteral(spec.channels)};
    var sq = vec4<f32>(0.0);
    for (var cc = 0; cc < ${c4}; cc++) { let dv = tileA[pr * ${as4} + cc] - shift - shiftedMean; sq += dv * dv; }
    let variance = dot(sq, vec4<f32>(1.0)) / ${floatLiteral(spec.channels)};
    rowStats[pr] = vec2<f32>(shift + shiftedMean, inverseSqrt(variance + ${floatLiteral(spec.epsilon)}));
  }
  workgroupBarrier();
  for (var e = lid; e < ${tp * c4}; e += ${threads}) {
    let st = rowStats[e / ${c4}];
    let i = ${aIndex('e')};
    tileA[i] = (tileA[i] - st.x) * st.y;
  }
  workgroupBarrier();`;

  // 'mlp' profiling variant: the conv output replaced by a plain load of x (conv inputs statically used so
  // the bind group layout keeps their bindings).
  const loadCode = `
  if (lid < 0) { result[0] = convFilter[0] + convBias[0]; }
  for (var e = lid; e < ${tp * c4}; e += ${threads}) {
    let pix = pixel0 + e / ${c4};
    tileA[${aIndex('e')}] = select(vec4<f32>(0.0), x[pix * ${c4} + e % ${c4}], pix < numPixels);
  }
  workgroupBarrier();`;
  // Small kernels are fully unrolled: tap offsets become constants and column checks are computed once.
  const loopedTaps = `for (var ky = 0; ky < ${k}; ky++) {
        let iy = oy + ky - ${pad};
        if (iy < 0 || iy >= height) { continue; }
        for (var kx = 0; kx < ${k}; kx++) {
          let ix = ox + kx - ${pad};
          if (ix < 0 || ix >= width) { continue; }
          let xBase = ((n * height + iy) * width + ix) * ${c4};
          let fBase = (ky * ${k} + kx) * ${spec.groupWidth * c4} + cv;
          ${convTapCode(spec.groupWidth, c4)}
        }
      }`;
  const range = Array.from({ length: k }, (_, i) => i);
  const unrolledTaps = `${range.map((kx) => `let colOk${kx} = ox + ${kx - pad} >= 0 && ox + ${kx - pad} < width;`)
    .join('\n      ')}
      ${range.map((ky) => `if (oy + ${ky - pad} >= 0 && oy + ${ky - pad} < height) {
        let rowBase = ((n * height + oy + ${ky - pad}) * width + ox) * ${c4};
        ${range.map((kx) => `if (colOk${kx}) {
          let xBase = rowBase + ${(kx - pad) * c4};
          let fBase = ${(ky * k + kx) * spec.groupWidth * c4} + cv;
          ${convTapCode(spec.groupWidth, c4)}
        }`).join('\n        ')}
      }`).join('\n      ')}`;
  // Depthwise convs (the 7x7 of ConvNeXt) and grouped ones (ConvFirst's 3x3, G=8) compute a strip of 4
  // adjacent pixels per thread: one row of k + 3 input columns serves 4k taps, instead of loading the
  // input again for every tap of every pixel.
  const g = spec.groupWidth;
  // Grouped convs (G >= 4) hold G/4 input vec4s per strip column in registers: bounded to keep them there.
  const sw = g === 1 ? tiling.convStrip : GROUPED_STRIP;
  const stripRegs = (k + sw - 1) * Math.max(1, g / 4);
  const strip = (g === 1 || g >= 4) && k <= UNROLL_MAX_K && tp % sw === 0 && (g === 1 || stripRegs <= MAX_STRIP_VEC4);
  const cols = Array.from({ length: k + sw - 1 }, (_, t) => t);
  const quad = Array.from({ length: sw }, (_, q) => q);
  const groupVec4s = Array.from({ length: g / 4 }, (_, jj) => jj);
  /**
   * One strip row: load its k + 3 input columns (G/4 vec4s each when grouped), then the row's k taps. `dy` is the
   * row's offset from oy and `tap(kx)` the filter tap index (ky * k + kx): literals when the rows are written out,
   * expressions of the loop's `ky` otherwise.
   */
  const stripRow = (dy: string, tap: (kx: number) => string) => g === 1 ? `
        let rowBase = ((n * height + oy + ${dy}) * width + ox) * ${c4} + cv;
        ${cols.map((t) => `let x${t} = select(vec4<f32>(0.0), x[rowBase + ${(t - pad) * c4}], colOk${t});`)
          .join('\n        ')}
        ${range.map((kx) => `{
          let f = convFilter[(${tap(kx)}) * ${c4} + cv];
          ${quad.map((q) => `acc${q} += x${q + kx} * f;`).join(' ')}
        }`).join('\n        ')}` : `
        // Outputs 4cv..4cv+3 share one group: its G inputs are G/4 vec4s from groupBase.
        let rowBase = ((n * height + oy + ${dy}) * width + ox) * ${c4} + (cv / ${g / 4}) * ${g / 4};
        ${cols.flatMap((t) => groupVec4s.map((jj) =>
          `let x${t}_${jj} = select(vec4<f32>(0.0), x[rowBase + ${(t - pad) * c4 + jj}], colOk${t});`))
          .join('\n        ')}
        ${range.map((kx) => `{
          ${groupVec4s.flatMap((jj) => lanes.map((l, li) => `{
            let f = convFilter[(${tap(kx)}) * ${g * c4} + ${(4 * jj + li) * c4} + cv];
            ${quad.map((q) => `acc${q} += x${q + kx}_${jj}.${l} * f;`).join(' ')}
          }`)).join('\n          ')}
        }`).join('\n        ')}`;
  /**
   * The strip's k rows: written out (each behind its row check), or (tiling.convRowLoop) a loop whose trip count
   * the compiler cannot see (min(k, height + k): height is a uniform), so it does not unroll and hoist the rows.
   */
  const stripRows = tiling.convRowLoop ? `let rows = min(${k}, height + ${k});
      for (var ky = 0; ky < rows; ky++) {
        if (oy + ky - ${pad} >= 0 && oy + ky - ${pad} < height) {${stripRow(`ky - ${pad}`, (kx) => `ky * ${k} + ${kx}`)}
        }
      }` : range.map((ky) => `if (oy + ${ky - pad} >= 0 && oy + ${ky - pad} < height) {${stripRow(`${ky - pad}`,
    (kx) => `${ky * k + kx}`)}
      }`).join('\n      ');
  const stripCode = `
  for (var e = lid; e < ${(tp / sw) * c4}; e += ${threads}) {
    let cv = e % ${c4};
    let p0 = (e / ${c4}) * ${sw};
    let pix = pixel0 + p0;
    ${quad.map((q) => `var acc${q} = vec4<f32>(0.0);`).join(' ')}
    let n = pix / (height * width);
    let rem = pix - n * height * width;
    let oy = rem / width;
    let ox = rem - oy * width;
    if (pix + ${sw - 1} < numPixels && ox + ${sw - 1} < width) {
      let bias = convBias[cv];
      ${quad.map((q) => `acc${q} = bias;`).join(' ')}
      ${cols.map((t) => `let colOk${t} = ox + ${t - pad} >= 0 && ox + ${t - pad} < width;`).join('\n      ')}
      ${stripRows}
    } else {
      ${quad.map((q) => `if (pix + ${q} < numPixels) { acc${q} = convAt(pix + ${q}, cv, height, width); }`)
        .join('\n      ')}
    }
    ${quad.map((q) => `tileA[(p0 + ${q}) * ${as4} + cv] = acc${q};`).join('\n    ')}
  }`;
  const pixelCode = `
  for (var e = lid; e < ${tp * c4}; e += ${threads}) {
    let pix = pixel0 + e / ${c4};
    var acc = vec4<f32>(0.0);
    if (pix < numPixels) { acc = convAt(pix, e % ${c4}, height, width); }
    tileA[${aIndex('e')}] = acc;
  }`;
  const convFunction = `
// The k x k conv (+ bias) at one output pixel, vec4 channels cv.
fn convAt(pix: i32, cv: i32, height: i32, width: i32) -> vec4<f32> {
  let n = pix / (height * width);
  let rem = pix - n * height * width;
  let oy = rem / width;
  let ox = rem - oy * width;
  var acc = convBias[cv];
  ${k <= UNROLL_MAX_K ? unrolledTaps : loopedTaps}
  return acc;
}`;
  const convCode = `
  // 1. k x k conv (+ bias) of the tile into workgroup memory; pixels past the end are zeros.
  ${strip ? stripCode : pixelCode}
  workgroupBarrier();`;
  const ke = tiling.expandSlice;
  const kp = tiling.projectSlice;
  /**
   * One vec4 step of a register-tiled matmul into accumulators `acc` (rows x cols4): `row(r)` loads the
   * thread's r-th activation vec4 (4 reduction channels), `w(i, s)` the weight vec4 of channel i, column s.
   */
  const matmulStep = (acc: string[][], row: (r: number) => string, w: (i: number, s: number) => string) => [
    ...acc.map((_, r) => `let a${r} = ${row(r)};`),
    ...[0, 1, 2, 3].flatMap((i) => [
      ...acc[0].map((_, s) => `let w${i}_${s} = ${w(i, s)};`),
      ...acc.flatMap((names, r) => names.map((name, s) => `${name} += a${r}.${lanes[i]} * w${i}_${s};`)),
    ]),
  ].join('\n          ');
  /** Expand over input channels 4c..4c+3 (W1' rows); project over hidden channels 4j..4j+3 (W2' rows). */
  const expandStep = (c: string, w: (i: number, s: number) => string) =>
    matmulStep(h, (r) => `tileA[(eRow + ${r * e.threadRows}) * ${as4} + ${c}]`, w);
  const projectStep = (j: string, w: (i: number, s: number) => string) =>
    matmulStep(y, (r) => `tileH[(pRow + ${r * p.threadRows}) * ${hs4} + ${j}]`, w);
  /**
   * A matmul's reduction loop over `trips` steps, `body` reading the step index `v`. Unrolled by the largest
   * divisor of `trips` up to tiling.unroll: each copy in its own block with its own `v`, so the compiler can
   * issue the loads of several steps before their FMAs.
   */
  const loop = (v: string, trips: number, body: string) => {
    let u = Math.min(tiling.unroll, trips);
    while (trips % u !== 0) u--;
    if (u === 1) return `for (var ${v} = 0; ${v} < ${trips}; ${v}++) {\n          ${body}\n        }`;
    return `for (var ${v}U = 0; ${v}U < ${trips}; ${v}U += ${u}) {\n` + Array.from({ length: u }, (_, k) =>
      `        { let ${v} = ${v}U + ${k};\n          ${body}\n        }`).join('\n') + '\n      }';
  };
  /**
   * A matmul's reduction over weight slices staged in workgroup memory: slices of `count` vec4s starting at
   * step `v` (0, step, .. < end), read by `src(v, element)` from device memory, coalesced, once per
   * workgroup; then `body` (threads with `active`) reads them on chip. With tiling.prefetch each thread keeps
   * its share of the next slice in registers, loaded before this slice's FMAs, so the load latency overlaps
   * compute instead of stalling the workgroup between two barriers.
   */
  const stagedLoop = (o: { v: string; end: number; step: number; count: number; what: string; active: string;
    src: (v: string, element: string) => string; body: string }) => {
    if (!tiling.prefetch) {
      return `for (var ${o.v} = 0; ${o.v} < ${o.end}; ${o.v} += ${o.step}) {
      // Stage ${o.what} once per workgroup (coalesced), then every thread reads it on chip.
      workgroupBarrier();
      for (var e = lid; e < ${o.count}; e += ${threads}) {
        tileW[e] = ${o.src(o.v, 'e')};
      }
      workgroupBarrier();
      if (${o.active}) {
        ${o.body}
      }
    }`;
    }
    const regs = Array.from({ length: Math.ceil(o.count / threads) }, (_, i) => i);
    // Elements past the slice load a valid element (clamped index) and are never stored.
    const element = (i: number) => `min(lid + ${i * threads}, ${o.count - 1})`;
    const store = (i: number) => (i + 1) * threads <= o.count ? `tileW[lid + ${i * threads}] = pf${i};` :
      `if (lid + ${i * threads} < ${o.count}) { tileW[lid + ${i * threads}] = pf${i}; }`;
    return `{
      // Stage ${o.what} once per workgroup (coalesced), the next slice prefetched into registers.
      ${regs.map((i) => `var pf${i} = ${o.src('0', element(i))};`).join('\n      ')}
      for (var ${o.v} = 0; ${o.v} < ${o.end}; ${o.v} += ${o.step}) {
        workgroupBarrier();
        ${regs.map(store).join('\n        ')}
        workgroupBarrier();
        if (${o.v} + ${o.step} < ${o.end}) {
          ${regs.map((i) => `pf${i} = ${o.src(`(${o.v} + ${o.step})`, element(i))};`).join('\n          ')}
        }
        if (${o.active}) {
          ${o.body}
        }
      }
    }`;
  };
  const mlpCode = `
  // 3. Walk the hidden dimension${split ? ` (this workgroup's slice of ${4 * sliceD4} channels)` : ''} in chunks of
  //    ${tiling.hiddenChunk}: expand -> act -> workgroup memory -> accumulate the projection in registers.
  ${threadCell('e', e)}
  ${threadCell('p', p)}
  ${projectCells((r, s) => `var ${y[r][s]} = vec4<f32>(0.0);`)}
  // The trip count is a constant (barriers inside need uniform control flow); the slice only offsets d0.
  for (var dStep = 0; dStep < ${sliceD4}; dStep += ${dc4}) {
    let d0 = ${split ? `slice * ${sliceD4} + ` : ''}dStep;
    ${h[0].map((_, s) => `let b1v${s} = mlp[${off.b1} + d0 + eCol + ${s * e.threadCols}];`).join('\n    ')}
    ${expandCells((r, s) => `var ${h[r][s]} = b1v${s};`)}
    ${ke === 0 ? `if (eActive) {
      ${loop('c', c4, expandStep('c', (i, s) => `mlp[${off.w1} + (c * 4 + ${i}) * ${d4} + d0 + eCol + ${s * e.threadCols}]`))}
    }` : stagedLoop({ v: 'c0', end: c4, step: ke / 4, count: ke * dc4, what: `W1'[c0*4 .. +${ke}, chunk]`,
      src: (v, i) => `mlp[${off.w1} + (${v} * 4 + ${i} / ${dc4}) * ${d4} + d0 + ${i} % ${dc4}]`, active: 'eActive',
      body: loop('cc', ke / 4, `let c = c0 + cc;
          ${expandStep('c', (i, s) => `tileW[(cc * 4 + ${i}) * ${dc4} + eCol + ${s * e.threadCols}]`)}`) })}
    if (eActive) {
      ${expandCells((r, s) => `tileH[(eRow + ${r * e.threadRows}) * ${hs4} + eCol + ${s * e.threadCols}] = activation(${h[r][s]});`)}
    }
    workgroupBarrier();
    ${kp === 0 ? `if (pActive) {
      ${loop('j', dc4, projectStep('j', (i, s) => `mlp[${off.w2} + ((d0 + j) * 4 + ${i}) * ${c4} + pCol + ${s * p.threadCols}]`))}
    }` : stagedLoop({ v: 'j0', end: dc4, step: kp / 4, count: kp * c4, what: `W2' rows (d0 + j0) * 4 .. +${kp}`,
      src: (v, i) => `mlp[${off.w2} + (d0 + ${v}) * ${4 * c4} + ${i}]`, active: 'pActive',
      body: loop('jj', kp / 4, `let j = j0 + jj;
          ${projectStep('j', (i, s) => `tileW[(jj * 4 + ${i}) * ${c4} + pCol + ${s * p.threadCols}]`)}`) })}
    workgroupBarrier();
  }`;
  const writeCode = `
  // 4. ${split ? 'The partial projection of this slice: [S, P, C] (dispatch 2 adds bias and residual).' :
    'Bias, residual, one write per output element.'}
  if (pActive) {
    ${y.map((row, r) => `{
      let pix = pixel0 + pRow + ${r * p.threadRows};
      if (pix < numPixels${split ? ' && sliceOk' : ''}) {
        ${row.map((name, s) => `{
          let cv = pCol + ${s * p.threadCols};
          ${split ? `result[(slice * numPixels + pix) * ${c4} + cv] = ${name};` :
            `result[pix * ${c4} + cv] = ${epilogue(spec, name)};`}
        }`).join('\n        ')}
      }
    }`).join('\n    ')}
  }`;
  // 'conv' profiling variant: the normalized conv tile written out as is (mlp statically used so the
  // bind group layout keeps its binding).
  const writeTileCode = `
  if (lid < 0) { result[0] = mlp[0]; }
  for (var e = lid; e < ${tp * c4}; e += ${threads}) {
    if (pixel0 + e / ${c4} < numPixels) { result[pixel0 * ${c4} + e] = tileA[${aIndex('e')}]; }
  }`;
  return `
var<workgroup> tileA: array<vec4<f32>, ${tp * as4}>;
${phases === 'conv' ? '' : `var<workgroup> tileH: array<vec4<f32>, ${tp * hs4}>;`}
${phases !== 'conv' && Math.max(tiling.expandSlice * dc4, tiling.projectSlice * c4) > 0 ?
    `var<workgroup> tileW: array<vec4<f32>, ${Math.max(tiling.expandSlice * dc4, tiling.projectSlice * c4)}>;` : ''}
${hasNorm ? `var<workgroup> rowStats: array<vec2<f32>, ${tp}>;` : ''}

${wgslActivationFunction(spec.activation)}
${phases === 'mlp' ? '' : convFunction}

fn main(index: i32) {
  let lid = i32(localIndex);
  // The backend may reshape a long 1-D dispatch into 2-D/3-D: linearize the workgroup id.
  let group = i32(workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x);
  let height = uniforms.xShape.y;
  let width = uniforms.xShape.z;
  let numPixels = uniforms.xShape.x * height * width;
${split ? `  // Slice-major: workgroups of one hidden slice share the same W1'/W2' rows.
  let numTiles = (numPixels + ${tp - 1}) / ${tp};
  let slice = group / numTiles;
  let tile = group - slice * numTiles;
  // A reshaped 2-D dispatch may have extra workgroups (slice >= ${splits}): they write nothing (no early
  // return: workgroupId is not uniform for WGSL's analysis).
  let sliceOk = slice < ${splits};` : '  let tile = group;'}
  let pixel0 = tile * ${tp};

${phases === 'mlp' ? loadCode : convCode + normCode}
${phases === 'conv' ? writeTileCode : mlpCode + writeCode}
}
`;
}
