/**
 * bench:models' columns against the baseline: every configuration of a batch compared with the run of the 'stock'
 * configuration of that batch. Only that key is the baseline: a stock A/B such as stocksub1k is compared with it
 * like any other configuration (taking every unfused ConvNeXt as the baseline made such a row its own baseline,
 * 1.00x, and every later row compared with it).
 */
import type { ModelConfig } from './model_configs.js';

export const BASELINE_KEY = 'stock';

/** What the comparison reads of one configuration's measurements. */
export interface Measured { gpuMs: number; wallMs: number; logits: Float32Array }

export interface VsStock {
  gpuSpeedupVsStock: number;
  wallSpeedupVsStock: number;
  /** ConvNeXt configurations other than the baseline (same weights): largest |logit difference|; else null. */
  maxAbsDiffVsStock: number | null;
}

/** Each configuration of one batch (`measured` in `configs` order) against the baseline; NaN ratios without one. */
export function compareWithStock(configs: readonly ModelConfig[], measured: readonly Measured[]): VsStock[] {
  const at = configs.findIndex((c) => c.key === BASELINE_KEY);
  const stock = at >= 0 ? measured[at] : undefined;
  return configs.map((cfg, i) => {
    const m = measured[i];
    let maxAbsDiff: number | null = null;
    if (stock != null && i !== at && cfg.family === 'convnext') {
      maxAbsDiff = 0;
      for (let j = 0; j < m.logits.length; j++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(m.logits[j] - stock.logits[j]));
    }
    return { gpuSpeedupVsStock: stock ? stock.gpuMs / m.gpuMs : NaN, wallSpeedupVsStock: stock ? stock.wallMs / m.wallMs : NaN,
      maxAbsDiffVsStock: maxAbsDiff };
  });
}
