/**
 * The tiling variants and partial kernels of `npm run bench -- --sweep` (bench/gpu.ts runSweep), by name. A
 * function of the tuning knobs, so that the names can be listed without loading a backend: `--sweep-only a,b` is
 * checked against SWEEP_VARIANT_NAMES before any device work.
 */
import type * as Tuning from '../../src/kernels/webgpu/index.js';

/** The benchmark-only knobs a variant sets (src/kernels/webgpu/index.ts). */
export type TuningKnobs = Pick<typeof Tuning, 'setTilingOverride' | 'setFusedPhasesForProfiling'>;

/** [name, set]: `set()` puts the knobs in the variant's state (the sweep resets them after each call). */
export function sweepVariants(tuning: TuningKnobs): [string, () => void][] {
  type Override = Parameters<typeof tuning.setTilingOverride>[0];
  const o = (t: Override) => () => tuning.setTilingOverride(t);
  /** The conv + norm phase alone (gemm-mlp's dispatch 1, or the one-dispatch kernel's first phases), knobs `t`. */
  const convOnly = (t: Override = null) => () => { tuning.setFusedPhasesForProfiling('conv'); tuning.setTilingOverride(t); };
  /** A gemm-mlp GEMM tile whose threads own consecutive rows (GemmTile.rowVec4). */
  const rv = (bm: number, bn: number, bk: number, tm: number, tn4: number) => ({ bm, bn, bk, tm, tn4, rowVec4: true });
  /** The same tile with its k loop written out (GemmTile.unrolled). */
  const ur = (bm: number, bn: number, bk: number, tm: number, tn4: number) => ({ ...rv(bm, bn, bk, tm, tn4), unrolled: true });
  const variants: [string, () => void][] = [
    ['default', () => {}],
    ['one-dispatch', o({ gemmMlp: false })],
    ['gemm-mlp', o({ gemmMlp: true })],
    ['gemm proj 32x64', o({ gemmMlp: true, gemmProject: { bm: 32, bn: 64, bk: 16, tm: 4, tn4: 2 } })],
    ['gemm proj 64x32', o({ gemmMlp: true, gemmProject: { bm: 64, bn: 32, bk: 16, tm: 4, tn4: 1 } })],
    ['gemm proj 64x64 8x4', o({ gemmMlp: true, gemmProject: { bm: 64, bn: 64, bk: 16, tm: 8, tn4: 1 } })],
    ['gemm exp 128x64', o({ gemmMlp: true, gemmExpand: { bm: 128, bn: 64, bk: 8, tm: 8, tn4: 2 } })],
    ['gemm exp bk16', o({ gemmMlp: true, gemmExpand: { bm: 64, bn: 128, bk: 16, tm: 8, tn4: 2 } })],
    ['gemm exp 64x64', o({ gemmMlp: true, gemmExpand: { bm: 64, bn: 64, bk: 16, tm: 4, tn4: 2 } })],
    ['gemm rowVec4', o({ gemmMlp: true, gemmExpand: rv(64, 64, 16, 4, 2), gemmProject: rv(64, 64, 16, 4, 2) })],
    ['gemm rowVec4 8x8', o({ gemmMlp: true, gemmExpand: rv(64, 128, 8, 8, 2), gemmProject: rv(64, 128, 8, 8, 2) })],
    ['gemm rowVec4 exp 128x64', o({ gemmMlp: true, gemmExpand: rv(128, 64, 8, 8, 2), gemmProject: rv(64, 64, 16, 4, 2) })],
    ['gemm rowVec4 proj 8x4', o({ gemmMlp: true, gemmExpand: rv(64, 64, 16, 4, 2), gemmProject: rv(64, 64, 16, 8, 1) })],
    ['conv+norm only', convOnly()],
    ['conv+expand only', () => { tuning.setFusedPhasesForProfiling('conv+expand'); tuning.setTilingOverride(null); }],
    ['conv only no norm', () => { tuning.setFusedPhasesForProfiling('conv-nonorm'); tuning.setTilingOverride(null); }],
    ['cn wg64', convOnly({ convWorkgroupSize: 64 })],
    ['cn wg128', convOnly({ convWorkgroupSize: 128 })],
    ['cn wg512', convOnly({ convWorkgroupSize: 512 })],
    ['cn strip 4 wg128', convOnly({ convStrip: 4, convWorkgroupSize: 128 })],
    ['cn tp28', convOnly({ convTilePixels: 28 })],
    ['cn tp56', convOnly({ convTilePixels: 56 })],
    ['cn tp84', convOnly({ convTilePixels: 84 })],
    ['cn tp112', convOnly({ convTilePixels: 112 })],
    ['cn tp14', convOnly({ convTilePixels: 14 })],
    ['cn tp56 wg512', convOnly({ convTilePixels: 56, convWorkgroupSize: 512 })],
    ['cn rowloop', convOnly({ convRowLoop: true })],
    ['cn rows written', convOnly({ convRowLoop: false })],
    ['rowloop', o({ convRowLoop: true })],
    ['rows written', o({ convRowLoop: false })],
    ['proj ks2', o({ gemmMlp: true, gemmProjectSplits: 2 })],
    ['proj ks3', o({ gemmMlp: true, gemmProjectSplits: 3 })],
    ['proj ks4', o({ gemmMlp: true, gemmProjectSplits: 4 })],
    ['proj ks8', o({ gemmMlp: true, gemmProjectSplits: 8 })],
    ['ur none', o({ gemmUnrolled: { expand: false, project: false } })],
    ['ur expand', o({ gemmUnrolled: { expand: true, project: false } })],
    ['ur project', o({ gemmUnrolled: { expand: false, project: true } })],
    ['ur both', o({ gemmUnrolled: { expand: true, project: true } })],
    ['exp lr4', o({ gemmExpand: { ...ur(64, 128, 16, 4, 2), laneRows: 4 } })],
    ['exp lr8', o({ gemmExpand: { ...ur(64, 128, 16, 4, 2), laneRows: 8 } })],
    ['exp 8x8 lr4', o({ gemmExpand: { ...ur(64, 128, 16, 8, 2), laneRows: 4 } })],
    ['exp 8x8 lr8', o({ gemmExpand: { ...ur(64, 128, 16, 8, 2), laneRows: 8 } })],
    ['ur exp 128x64 8x8', o({ gemmExpand: ur(128, 64, 16, 8, 2) })],
    ['ur exp 64x64', o({ gemmExpand: ur(64, 64, 16, 4, 2) })],
    ['ur both exp 8x8', o({ gemmExpand: ur(64, 128, 16, 8, 2), gemmUnrolled: { expand: true, project: true } })],
    ['gemm ur p32', o({ gemmMlp: true, gemmExpand: ur(64, 128, 16, 4, 2), gemmProject: ur(32, 96, 16, 4, 3) })],
    ['gemm ur p64', o({ gemmMlp: true, gemmExpand: ur(64, 128, 16, 4, 2), gemmProject: ur(64, 96, 16, 4, 3) })],
    ['gemm ur exp 8x8', o({ gemmMlp: true, gemmExpand: ur(64, 128, 16, 8, 2), gemmProject: ur(32, 96, 16, 4, 3) })],
    ['gemm ur exp 128x128', o({ gemmMlp: true, gemmExpand: ur(128, 128, 16, 8, 2), gemmProject: ur(32, 96, 16, 4, 3) })],
    ['gemm ur p64 8x6', o({ gemmMlp: true, gemmExpand: ur(64, 128, 16, 4, 2), gemmProject: ur(64, 96, 16, 8, 3) })],
    ['gemm ur bk8', o({ gemmMlp: true, gemmExpand: ur(64, 128, 8, 4, 2), gemmProject: ur(32, 96, 8, 4, 3) })],
    ['gemm ur bk32', o({ gemmMlp: true, gemmExpand: ur(64, 128, 32, 4, 2), gemmProject: ur(32, 96, 32, 4, 3) })],
    // 8 x 8 per thread for the project GEMM too (deep K = 4C), where 64 or 128 divides C.
    ['proj 32x128 8x8', o({ gemmProject: ur(32, 128, 16, 8, 2) })],
    ['proj 64x128 8x8', o({ gemmProject: ur(64, 128, 16, 8, 2) })],
    ['proj 64x64 8x8', o({ gemmProject: ur(64, 64, 16, 8, 2) })],
    ['proj 32x64 8x8', o({ gemmProject: ur(32, 64, 16, 8, 2) })],
    ['proj 64x128 8x8 ks2', o({ gemmProject: ur(64, 128, 16, 8, 2), gemmProjectSplits: 2 })],
    ['proj 64x64 8x8 ks2', o({ gemmProject: ur(64, 64, 16, 8, 2), gemmProjectSplits: 2 })],
    ['proj 64x96 ks2', o({ gemmMlp: true, gemmProject: rv(64, 96, 16, 4, 3), gemmProjectSplits: 2 })],
    ['proj 64x96 ks4', o({ gemmMlp: true, gemmProject: rv(64, 96, 16, 4, 3), gemmProjectSplits: 4 })],
    // (Variant names must not contain commas: --sweep-only splits on them.)
    ['conv+norm only one-dispatch tiling', convOnly({ gemmMlp: false })],
    ['conv+norm only strip 4', convOnly({ convStrip: 4 })],
    ['gemm-mlp conv wg128', o({ convWorkgroupSize: 128 })],
    ['gemm exp 64x64 rv', o({ gemmMlp: true, gemmExpand: rv(64, 64, 16, 4, 2) })],
    ['gemm-mlp proj 64x96', o({ gemmMlp: true, gemmProject: rv(64, 96, 16, 4, 3) })],
    ['gemm-mlp proj 32x96', o({ gemmMlp: true, gemmProject: rv(32, 96, 16, 4, 3) })],
    ['gemm proj 64x64 rv', o({ gemmMlp: true, gemmProject: rv(64, 64, 16, 4, 2) })],
    // gemm-mlp at N=1: small tiles so the skinny GEMMs launch enough workgroups, split-K project.
    ['n1 gemm default ks8', o({ gemmMlp: true, gemmProjectSplits: 8 })],
    ['n1 gemm 32x64 ks4', o({ gemmMlp: true, gemmExpand: rv(32, 64, 16, 4, 2), gemmProject: rv(32, 96, 16, 4, 3), gemmProjectSplits: 4 })],
    ['n1 gemm 32x64 ks8', o({ gemmMlp: true, gemmExpand: rv(32, 64, 16, 4, 2), gemmProject: rv(32, 96, 16, 4, 3), gemmProjectSplits: 8 })],
    ['n1 gemm 32x64 ks16', o({ gemmMlp: true, gemmExpand: rv(32, 64, 16, 4, 2), gemmProject: rv(32, 96, 16, 4, 3), gemmProjectSplits: 16 })],
    ['n1 gemm 16x64 ks8', o({ gemmMlp: true, gemmExpand: rv(16, 64, 16, 4, 2), gemmProject: rv(16, 96, 16, 4, 3), gemmProjectSplits: 8 })],
    ['n1 gemm 16x64 ks16', o({ gemmMlp: true, gemmExpand: rv(16, 64, 16, 4, 2), gemmProject: rv(16, 96, 16, 4, 3), gemmProjectSplits: 16 })],
    ['n1 conv+expand 32x64', () => { tuning.setFusedPhasesForProfiling('conv+expand');
      tuning.setTilingOverride({ gemmMlp: true, gemmExpand: rv(32, 64, 16, 4, 2) }); }],
    ['n1 conv+norm gemm', convOnly({ gemmMlp: true })],
    ['n1 tp8', o({ tilePixels: 8, hiddenSplits: 1 })],
    ['n1 tp8 s2', o({ tilePixels: 8, hiddenSplits: 2 })],
    ['n1 tp8 s3', o({ tilePixels: 8, hiddenSplits: 3 })],
    ['n1 tp16 s3', o({ tilePixels: 16, hiddenSplits: 3 })],
    ['n1 tp16 s6', o({ tilePixels: 16, hiddenSplits: 6 })],
    ['n1 tp2 s12', o({ tilePixels: 2, hiddenSplits: 12 })],
    ['n1 tp8 s12', o({ tilePixels: 8, hiddenSplits: 12 })],
    ['n1 dc64 s24', o({ hiddenChunk: 64, hiddenSplits: 24 })],
    ['n1 tp8 dc64 s24', o({ tilePixels: 8, hiddenChunk: 64, hiddenSplits: 24 })],
    ['n1 tp2 dc64 s24', o({ tilePixels: 2, hiddenChunk: 64, hiddenSplits: 24 })],
    ['n1 dc64 s48', o({ hiddenChunk: 64, hiddenSplits: 48 })],
    ['n1 wg256', o({ workgroupSize: 256 })],
    ['split 2', o({ hiddenSplits: 2 })],
    ['split 3', o({ hiddenSplits: 3 })],
    ['split 4', o({ hiddenSplits: 4 })],
    ['split 6', o({ hiddenSplits: 6 })],
    ['split 12', o({ hiddenSplits: 12 })],
    ['gemm strided rows', o({ gemmMlp: true, gemmExpand: { bm: 64, bn: 64, bk: 16, tm: 4, tn4: 2 },
      gemmProject: { bm: 64, bn: 64, bk: 16, tm: 4, tn4: 2 } })],
    ['gemm rv bk32', o({ gemmMlp: true, gemmExpand: rv(64, 64, 32, 4, 2), gemmProject: rv(64, 64, 32, 4, 2) })],
    ['gemm rv bk8', o({ gemmMlp: true, gemmExpand: rv(64, 64, 8, 4, 2), gemmProject: rv(64, 64, 8, 4, 2) })],
    ['gemm rv 128x64 256t', o({ gemmMlp: true, gemmExpand: rv(128, 64, 16, 4, 2), gemmProject: rv(128, 64, 16, 4, 2) })],
    ['gemm rv exp 64x128 256t', o({ gemmMlp: true, gemmExpand: rv(64, 128, 16, 4, 2), gemmProject: rv(64, 64, 16, 4, 2) })],
    ['gemm rv 8x8 128x128', o({ gemmMlp: true, gemmExpand: rv(128, 128, 8, 8, 2), gemmProject: rv(64, 64, 16, 4, 2) })],
    ['mlp only', () => tuning.setFusedPhasesForProfiling('mlp')],
    ['conv strip 8', o({ convStrip: 8 })],
    ['conv+norm strip 8', convOnly({ convStrip: 8 })],
    ['conv strip 2', o({ convStrip: 2 })],
    ['conv strip 1', o({ convStrip: 1 })],
    ['conv strip 4', o({ convStrip: 4 })],
    ['conv+norm only strip 2', convOnly({ convStrip: 2 })],
    ['conv+norm only strip 1', convOnly({ convStrip: 1 })],
    ['no prefetch', o({ prefetch: false })],
    ['prefetch', o({ prefetch: true })],
    ['prefetch unroll2', o({ prefetch: true, unroll: 2 })],
    ['prefetch wg128', o({ prefetch: true, workgroupSize: 128 })],
    ['prefetch wg128 u4', o({ prefetch: true, workgroupSize: 128, unroll: 4 })],
    ['dc32', o({ hiddenChunk: 32 })],
    ['dc32 prefetch', o({ hiddenChunk: 32, prefetch: true })],
    ['tp32 prefetch', o({ tilePixels: 32, prefetch: true })],
    ['tp32 pf wg128 u4', o({ tilePixels: 32, prefetch: true, workgroupSize: 128, unroll: 4 })],
    ['staged 32/8 pf', o({ expandSlice: 32, projectSlice: 8, prefetch: true })],
    ['staged 16/8 pf', o({ expandSlice: 16, projectSlice: 8, prefetch: true })],
  ];
  return variants;
}

/** Every variant's name, in sweep order. */
export const SWEEP_VARIANT_NAMES: readonly string[] =
  sweepVariants({ setTilingOverride: () => {}, setFusedPhasesForProfiling: () => {} }).map(([name]) => name);

/** The variants bench --sweep runs at N=1 besides the large batch, by default. */
const BATCH_ONE_VARIANTS = ['default', 'one-dispatch', 'gemm-mlp'];

/**
 * The sweep's passes, [batch, variant names or null for all]: by default every variant (or the --sweep-only ones) at
 * N=32 and three at N=1; --sweep-batch N: those at N only. --smoke defaults to N=1 (its shapes are small) but keeps
 * --sweep-only and --sweep-batch (it ran every variant at N=1 whatever they said).
 */
export function sweepPlan(o: { smoke: boolean; sweepOnly: string | undefined; sweepBatch: number | null }):
  [number, string[] | null][] {
  const only = o.sweepOnly != null ? o.sweepOnly.split(',') : null;
  if (o.sweepBatch != null) return [[o.sweepBatch, only]];
  return o.smoke ? [[1, only]] : [[32, only], [1, BATCH_ONE_VARIANTS]];
}
