/**
 * The files an analysis is written as, by the analyze CLI and bench/analyze_models.ts alike: the three SVG figures and
 * analysis.json, which names the figures' files instead of holding their text.
 */
import type { Analysis } from './analyze.js';

export const ANALYSIS_FIGURE_FILES: Record<keyof Analysis['figures'], string> = {
  efficiencyGap: 'efficiency_gap.svg', waterline: 'waterline.svg', roofline: 'roofline.svg',
};
export const ANALYSIS_JSON = 'analysis.json';

/** Every output file's name and text: the figures, then analysis.json. */
export function analysisOutputFiles(analysis: Analysis): { name: string; text: string }[] {
  const keys = Object.keys(ANALYSIS_FIGURE_FILES) as (keyof Analysis['figures'])[];
  return [
    ...keys.map((key) => ({ name: ANALYSIS_FIGURE_FILES[key], text: analysis.figures[key] })),
    { name: ANALYSIS_JSON, text: JSON.stringify({ ...analysis, figures: ANALYSIS_FIGURE_FILES }, null, 1) },
  ];
}
