/**
 * bench:models' speedup and logit-difference columns (bench/support/stock_comparison.ts): every configuration is
 * compared with the 'stock' run of its batch, including the stock A/B configurations.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALL_CONFIGS } from '../../bench/support/model_configs.js';
import { compareWithStock } from '../../bench/support/stock_comparison.js';

const config = (key: string) => ALL_CONFIGS.find((c) => c.key === key)!;

describe('bench:models: compareWithStock', () => {
  it('stocksub1k (an unfused ConvNeXt A/B) is compared with stock, not taken as the baseline', () => {
    const configs = ['stock', 'fused', 'convfirst', 'stocksub1k'].map(config);
    const measured = [
      { gpuMs: 6, wallMs: 9, logits: new Float32Array([1, 2]) },
      { gpuMs: 1.5, wallMs: 3, logits: new Float32Array([1, 2.5]) },
      { gpuMs: 1.2, wallMs: 2, logits: new Float32Array([7, 7]) },
      { gpuMs: 4, wallMs: 6, logits: new Float32Array([0.75, 2]) },
    ];
    assert.deepEqual(compareWithStock(configs, measured), [
      { gpuSpeedupVsStock: 1, wallSpeedupVsStock: 1, maxAbsDiffVsStock: null },
      { gpuSpeedupVsStock: 4, wallSpeedupVsStock: 3, maxAbsDiffVsStock: 0.5 },
      // ConvFirstNet has other weights: no logit comparison.
      { gpuSpeedupVsStock: 5, wallSpeedupVsStock: 4.5, maxAbsDiffVsStock: null },
      { gpuSpeedupVsStock: 1.5, wallSpeedupVsStock: 1.5, maxAbsDiffVsStock: 0.25 },
    ]);
  });
});
