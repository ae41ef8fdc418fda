/** The efficiency-gap and waterline figures, drawn by the analysis package's SVG code. */
import { efficiencyGapSvg, waterlineSvg } from '../../src/analysis/index.js';
import type { BackendAvailability } from '../lib/backends.js';
import type { ComparisonResults } from '../lib/comparison.js';

function figure(title: string, svg: string): HTMLElement {
  const fig = document.createElement('figure');
  fig.setAttribute('aria-label', title);
  // The SVG strings come from our own generators, which escape every label.
  fig.innerHTML = svg;
  return fig;
}

/**
 * Why there are no figures for a profiled backend without peaks. Only WebGPU measures a GPU's peaks, so the
 * advice to run it is given only where this browser has it (else it names why not).
 */
export function noPeaksMessage(backend: string, webgpu: BackendAvailability | undefined): string {
  if (backend === 'webgpu') return 'No peak figures for webgpu (measuring the GPU\'s peaks failed).';
  if (webgpu?.available === true) return `No peak figures for ${backend} (run webgpu in the same page to measure the GPU's peaks).`;
  return `No peak figures for ${backend}: a GPU's peaks are measured with WebGPU, which this browser cannot run` +
    ` (${webgpu?.reason ?? 'unavailable'}).`;
}

/** `webgpu`: whether this browser can run WebGPU (it words the message shown when peaks are missing). */
export function renderFigures(box: HTMLElement, results: ComparisonResults, webgpu: BackendAvailability | undefined): void {
  box.replaceChildren();
  // Prefer a backend with GPU timestamps (per-kernel wall times include synchronisation).
  const last = results.profiles.find((p) => p.timing === 'gpu-timestamp') ?? results.profiles.at(-1);
  const peaks = results.peaks.find((p) => p.backend === last?.backend)?.peaks;
  if (last == null || peaks == null) {
    const p = Object.assign(document.createElement('p'), { className: 'muted',
      textContent: last == null ? 'Profiling was off for this run.' : noPeaksMessage(last.backend, webgpu) });
    box.append(p);
    return;
  }
  const models = results.profiles.filter((p) => p.backend === last.backend)
    .map((p) => ({ name: p.name, kernels: p.kernels }));
  box.append(figure('Efficiency gap', efficiencyGapSvg(models, peaks)), figure('Waterline', waterlineSvg(models, peaks)));
}
