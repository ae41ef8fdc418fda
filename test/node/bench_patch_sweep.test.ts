/**
 * bench:patch-conv --sweep (bench/support/patch_sweep.ts): a forced tiling the plan refuses runs the reference
 * composition in its place; it is reported as skipped, not timed under the tiling's name.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PATCH_SWEEP_VARIANTS, sweepForcedTilings } from '../../bench/support/patch_sweep.js';
import type { PatchConvChoice, PatchConvOverride } from '../../src/kernels/webgpu/patch_conv_plan.js';

describe('bench:patch-conv --sweep: sweepForcedTilings', () => {
  it('times the accepted tilings only; a refused one is skipped with its reason', async () => {
    const refused = PATCH_SWEEP_VARIANTS.find(([name]) => name === 'r8 c4 wg256')![1];
    const timed: PatchConvOverride[] = [];
    const decide = (o: PatchConvOverride): PatchConvChoice => (o === refused ?
      { ok: false, reason: '1024 x 32 output tiles need 50688 bytes of workgroup memory' } :
      { ok: true, plan: { tiling: { rows: o.rows ?? 1 } } } as unknown as PatchConvChoice);
    const outcomes = await sweepForcedTilings(PATCH_SWEEP_VARIANTS, decide, async (o) => { timed.push(o); return 0.5; });
    assert.equal(outcomes.length, PATCH_SWEEP_VARIANTS.length);
    assert.deepEqual(outcomes.find((r) => r.variant === 'r8 c4 wg256'),
      { variant: 'r8 c4 wg256', skipped: '1024 x 32 output tiles need 50688 bytes of workgroup memory' });
    assert.ok(!timed.includes(refused), 'the reference composition was timed as the refused tiling');
    assert.equal(timed.length, PATCH_SWEEP_VARIANTS.length - 1);
    assert.deepEqual(outcomes[0], { variant: 'r4 c2 wg128', gpuMs: 0.5, tiling: { rows: 4 } });
  });
  it('no decision (the call did not reach the webgpu kernel): skipped', async () => {
    const outcomes = await sweepForcedTilings(PATCH_SWEEP_VARIANTS.slice(0, 1), () => null, async () => 1);
    assert.deepEqual(outcomes, [{ variant: 'r4 c2 wg128', skipped: 'no decision' }]);
  });
});
