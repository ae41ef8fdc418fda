/**
 * bench:patch-conv --sweep: forced tilings of the fused patch conv, each timed only when the plan accepts it. A tiling
 * the plan refuses (ok: false) makes the op run the reference composition instead, whose time was reported under the
 * tiling's name (with the refusal as its "tiling").
 */
import type { PatchConvChoice, PatchConvOverride } from '../../src/kernels/webgpu/patch_conv_plan.js';

/** The forced tilings, by name. */
export const PATCH_SWEEP_VARIANTS: readonly [string, PatchConvOverride][] = [
  ['r4 c2 wg128', { rows: 4, cols: 2, workgroupSize: 128 }],
  ['r4 c2 wg256', { rows: 4, cols: 2, workgroupSize: 256 }],
  ['r8 c2 wg128', { rows: 8, cols: 2, workgroupSize: 128 }],
  ['r4 c4 wg128', { rows: 4, cols: 4, workgroupSize: 128 }],
  ['r4 c4 wg256', { rows: 4, cols: 4, workgroupSize: 256 }],
  ['r8 c4 wg256', { rows: 8, cols: 4, workgroupSize: 256 }],
  ['r4 c2 ks16', { rows: 4, cols: 2, kSlice: 16 }],
  ['r4 c2 ks8', { rows: 4, cols: 2, kSlice: 8 }],
  ['r2 c2 wg128', { rows: 2, cols: 2, workgroupSize: 128 }],
  ['stat lanes 1', { statLanes: 1 }],
  ['stat lanes 4', { statLanes: 4 }],
];

export type SweepOutcome = { variant: string; gpuMs: number; tiling: unknown } | { variant: string; skipped: string };

/**
 * Each variant: `decide(o)` makes one call under the override and returns its decision (lastPatchConvDecision: the
 * tiling it ran, or why it ran the reference); `time(o)` (GPU ms per call under the override) runs only for the
 * variants the plan accepted.
 */
export async function sweepForcedTilings(variants: readonly [string, PatchConvOverride][],
  decide: (o: PatchConvOverride) => PatchConvChoice | null, time: (o: PatchConvOverride) => Promise<number>): Promise<SweepOutcome[]> {
  const out: SweepOutcome[] = [];
  for (const [variant, o] of variants) {
    const d = decide(o);
    if (d == null || !d.ok) out.push({ variant, skipped: d == null ? 'no decision' : d.reason });
    else out.push({ variant, gpuMs: await time(o), tiling: d.plan.tiling });
  }
  return out;
}
