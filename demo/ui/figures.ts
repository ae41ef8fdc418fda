/** The efficiency-gap and waterline figures, drawn by the analysis package's SVG code. */
import { efficiencyGapSvg, waterlineSvg } from '../../src/analysis/index.js';
import type { ComparisonResults } from '../lib/comparison.js';

function figure(title: string, svg: string): HTMLElement {
  const fig = document.createElement('figure');
  fig.setAttribute('aria-label', title);
  // The SVG strings come from our own generators, which escape every label.
  fig.innerHTML = svg;
  return fig;
}

export function renderFigures(box: HTMLElement, results: ComparisonResults): void {
  box.replaceChildren();
  // Prefer a backend with GPU timestamps (per-kernel wall times include synchronisation).
  const last = results.profiles.find((p) => p.timing === 'gpu-timestamp') ?? results.profiles.at(-1);
  const peaks = results.peaks.find((p) => p.backend === last?.backend)?.peaks;
  if (last == null || peaks == null) {
    const p = Object.assign(document.createElement('p'), { className: 'muted',
      textContent: last == null ? 'Profiling was off for this run.' :
        `No peak figures for ${last.backend} (run webgpu in the same page to measure the GPU's peaks).` });
    box.append(p);
    return;
  }
  const models = results.profiles.filter((p) => p.backend === last.backend)
    .map((p) => ({ name: p.name, kernels: p.kernels }));
  box.append(figure('Efficiency gap', efficiencyGapSvg(models, peaks)), figure('Waterline', waterlineSvg(models, peaks)));
}
