/**
 * Efficiency gap plot: each kernel (small dots) and each model's total (large diamonds) placed at
 * (ideal latency, measured latency) on equal log axes. Lines of constant computational efficiency
 * E (latency = ideal / E) run at 45 degrees, so a point's distance above the E = 100% line is its gap.
 */
import { type DevicePeaks, idealLatencyMs } from '../roofline.js';
import {
  checkFigureInput, clipRect, colorOf, esc, type FigureModel, fmt, fmt3, FONT, frame, legend, type LegendEntry, legendHeight,
  legendWidth, logDomain, logScale, logTicks, markerSvg, maxXTicks, maxYTicks, noData, type PlotBox, r, textWidth,
  xAxis, yAxis,
} from './common.js';

const EFFICIENCIES = [1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 0.0005, 0.0002, 0.0001];

function percent(e: number): string {
  return `${fmt(e * 100)}%`;
}

export interface EfficiencyGapOptions {
  title?: string;
  /** Longest side of the plot area in px (the other follows from equal pixels per decade). */
  size?: number;
}

export function efficiencyGapSvg(models: ReadonlyArray<FigureModel>, peaks: DevicePeaks,
  options: EfficiencyGapOptions = {}): string {
  checkFigureInput('efficiencyGapSvg', models, peaks);
  const maxSide = options.size ?? 560;
  const points = models.map((m) => m.kernels.filter((k) => k.flops > 0 && k.timeMs > 0)
    .map((k) => ({ k, x: idealLatencyMs(k.flops, peaks), y: k.timeMs })));
  const totals = models.map((m) => {
    const flops = m.kernels.reduce((s, k) => s + k.flops, 0);
    const timeMs = m.kernels.reduce((s, k) => s + k.timeMs, 0);
    return { flops, timeMs, x: idealLatencyMs(flops, peaks), y: timeMs, e: timeMs > 0 ? idealLatencyMs(flops, peaks) / timeMs : 0 };
  });
  const xs = [...points.flat().map((p) => p.x), ...totals.filter((t) => t.flops > 0 && t.timeMs > 0).map((t) => t.x)];
  const ys = [...points.flat().map((p) => p.y), ...totals.filter((t) => t.flops > 0 && t.timeMs > 0).map((t) => t.y)];
  // Generous padding keeps the model-total diamonds clear of the frame.
  const [xlo, xhi] = logDomain(xs, 2.5);
  const [ylo, yhi] = logDomain(ys, 2.5);
  // Same pixels per decade on both axes, so constant-efficiency lines run at exactly 45 degrees.
  const xDecades = Math.log10(xhi / xlo);
  const yDecades = Math.log10(yhi / ylo);
  const perDecade = Math.min(maxSide / xDecades, maxSide / yDecades);

  const entries: LegendEntry[] = [];
  models.forEach((m, i) => {
    const t = totals[i];
    entries.push({ label: `${m.name}: kernels`, color: colorOf(i), marker: 'circle', series: `${m.name}/kernels` });
    entries.push({
      label: t.timeMs > 0 ? `${m.name}: total ${fmt3(t.timeMs)} ms, E = ${fmt3(t.e * 100)}%` : `${m.name}: no timing`,
      color: colorOf(i), marker: 'diamond',
      series: `${m.name}/total`,
    });
  });
  const lw = legendWidth(entries, 'Models');
  const box: PlotBox = { left: 90, top: 96, width: perDecade * xDecades, height: perDecade * yDecades };
  const gutter = 60; // right of the plot: labels of lines leaving through the right edge
  const width = box.left + box.width + gutter + lw + 10;
  const height = Math.max(box.top + box.height + 70, box.top + legendHeight(entries, 'Models') + 20);
  const x = logScale([xlo, xhi], [box.left, box.left + box.width]);
  const y = logScale([ylo, yhi], [box.top + box.height, box.top]);

  const body: string[] = [clipRect('gap-clip', box)];
  body.push(xAxis(box, x, { label: 'ideal latency = FLOPs / peak (ms)', ticks: logTicks(xlo, xhi, maxXTicks(box, '0.0001')) }));
  body.push(yAxis(box, y, { label: 'measured latency (ms)', ticks: logTicks(ylo, yhi, maxYTicks(box)) }));

  // Constant-efficiency lines y = x / E, clipped to the plot. Each is labelled where it leaves the plot:
  // above the top edge, or right of the right edge; a label that would touch its neighbour is dropped.
  const lines: string[] = [`<g class="efficiency-lines" clip-path="url(#gap-clip)">`];
  const labels: string[] = [`<g class="efficiency-labels" font-size="${FONT - 1}" fill="#666">`];
  const candidates: Array<{ e: number; text: string; edge: 'top' | 'right'; pos: number; half: number }> = [];
  for (const e of EFFICIENCIES) {
    if (xlo / e > yhi || xhi / e < ylo) continue; // line misses the plot
    const strong = e === 1;
    lines.push(`<line data-efficiency="${e}" x1="${r(x(xlo))}" y1="${r(y(xlo / e))}" x2="${r(x(xhi))}" y2="${r(y(xhi / e))}" ` +
      `stroke="${strong ? '#444' : '#aaa'}" stroke-width="${strong ? 1.5 : 1}"${strong ? '' : ' stroke-dasharray="4 3"'}/>`);
    const text = percent(e);
    if (yhi * e <= xhi) { // leaves through the top edge at x = yhi * E
      candidates.push({ e, text, edge: 'top', pos: x(yhi * e), half: textWidth(text, FONT - 1) / 2 + 5 });
    } else { // leaves through the right edge at y = xhi / E
      candidates.push({ e, text, edge: 'right', pos: y(xhi / e), half: FONT * 0.6 + 2 });
    }
  }
  // Decades (100%, 10%, 1% ...) first, then the 50% / 20% steps where they fit.
  const isDecade = (e: number) => Math.abs(Math.log10(e) - Math.round(Math.log10(e))) < 1e-9;
  candidates.sort((a, b) => Number(isDecade(b.e)) - Number(isDecade(a.e)));
  const placed: typeof candidates = [];
  for (const c of candidates) {
    if (placed.some((p) => p.edge === c.edge && Math.abs(p.pos - c.pos) < p.half + c.half)) continue;
    placed.push(c);
    labels.push(c.edge === 'top'
      ? `<text x="${r(c.pos)}" y="${box.top - 8}" text-anchor="middle">${esc(c.text)}</text>`
      : `<text x="${r(box.left + box.width + 6)}" y="${r(c.pos + FONT * 0.35)}">${esc(c.text)}</text>`);
  }
  lines.push('</g>');
  labels.push(`<text x="${r(box.left + box.width)}" y="${r(box.top - 10 - FONT * 1.3)}" text-anchor="end">` +
    'dashed: constant efficiency E = ideal / measured</text></g>');
  body.push(lines.join(''), labels.join(''));

  const data: string[] = [`<g class="data" clip-path="url(#gap-clip)">`];
  if (xs.length === 0) data.push(noData(box, 'no kernel with both FLOPs and time'));
  models.forEach((m, i) => {
    data.push(`<g class="series" data-series="${esc(m.name)}/kernels">`);
    for (const p of points[i]) {
      data.push(`<g>${markerSvg('circle', x(p.x), y(p.y), colorOf(i), 3.5)}<title>${esc(`${m.name}: ${p.k.name}, ` +
        `${fmt3(p.k.timeMs)} ms, ideal ${fmt3(p.x)} ms, E = ${fmt3(p.x / p.y * 100)}%`)}</title></g>`);
    }
    data.push('</g>');
  });
  models.forEach((m, i) => {
    const t = totals[i];
    if (!(t.flops > 0 && t.timeMs > 0)) return;
    data.push(`<g class="series" data-series="${esc(m.name)}/total">${markerSvg('diamond', x(t.x), y(t.y), colorOf(i), 5)}` +
      `<title>${esc(`${m.name}: total ${fmt3(t.timeMs)} ms, ideal ${fmt3(t.x)} ms, E = ${fmt3(t.e * 100)}%`)}</title></g>`);
  });
  data.push('</g>');
  body.push(data.join(''));
  body.push(`<rect x="${box.left}" y="${box.top}" width="${box.width}" height="${box.height}" fill="none" stroke="#333"/>`);
  body.push(legend(box.left + box.width + gutter, box.top + 6, entries, 'Models'));

  const subtitle = `peak ${fmt3(peaks.flopsPerSecond / 1e12)} TFLOP/s (${peaks.source}); ` +
    'kernels with no FLOPs or no time are not shown';
  return frame(width, height, options.title ?? 'Efficiency gap: measured vs ideal latency', subtitle, body.join(''));
}
