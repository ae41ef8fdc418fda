/**
 * Roofline scatter: each kernel at (operational intensity, achieved FLOP/s) on log axes under the two
 * ceilings, bandwidth x intensity (slanted) and peak FLOP/s (flat), which meet at the ridge intensity.
 * A kernel's distance below the roof is its efficiency loss against the roofline.
 */
import { type DevicePeaks, achievedFlopsPerSecond, ridgeIntensity } from '../roofline.js';
import {
  checkFigureInput, clipRect, colorOf, esc, type FigureModel, fmt3, FONT, frame, legend, type LegendEntry, legendHeight,
  legendWidth, logDomain, logScale, logTicks, markerSvg, maxXTicks, maxYTicks, noData, type PlotBox, r, xAxis, yAxis,
} from './common.js';

export interface RooflineOptions {
  title?: string;
  width?: number;
  height?: number;
}

export function rooflineSvg(models: ReadonlyArray<FigureModel>, peaks: DevicePeaks, options: RooflineOptions = {}): string {
  checkFigureInput('rooflineSvg', models, peaks);
  const gflops = (v: number) => v / 1e9;
  const points = models.map((m) => m.kernels.filter((k) => k.flops > 0 && k.bytes > 0 && k.timeMs > 0)
    .map((k) => ({ k, x: k.flops / k.bytes, y: gflops(achievedFlopsPerSecond(k.flops, k.timeMs)) })));
  const ridge = ridgeIntensity(peaks);
  const peak = gflops(peaks.flopsPerSecond);
  const bw = peaks.bytesPerSecond / 1e9; // GFLOP/s per (FLOP/byte)
  const [xlo, xhi] = logDomain([...points.flat().map((p) => p.x), ridge], 2);
  const [ylo] = logDomain(points.flat().map((p) => p.y).concat([Math.min(peak, bw * xlo)]), 2);
  // Above the roof by 2.5x, or more if a kernel measured faster than the peaks allow (it must stay visible: that
  // says the measured peaks are low, not that the kernel is impossible).
  let yhi = peak * 2.5;
  for (const p of points.flat()) yhi = Math.max(yhi, p.y * 1.6);

  const entries: LegendEntry[] = models.map((m, i) => ({
    label: `${m.name} (${points[i].length} kernels)`, color: colorOf(i), marker: 'circle' as const, series: `${m.name}/kernels`,
  }));
  entries.push({ label: 'roofline', color: '#000', marker: 'line', series: 'roofline' });
  const lw = legendWidth(entries, 'Kernels');
  const box: PlotBox = { left: 90, top: 70, width: options.width ?? 560, height: options.height ?? 400 };
  const width = box.left + box.width + 30 + lw + 10;
  const height = Math.max(box.top + box.height + 70, box.top + legendHeight(entries, 'Kernels') + 20);
  const x = logScale([xlo, xhi], [box.left, box.left + box.width]);
  const y = logScale([ylo, yhi], [box.top + box.height, box.top]);

  const body: string[] = [clipRect('roofline-clip', box)];
  body.push(xAxis(box, x, { label: 'operational intensity (FLOP / byte)', ticks: logTicks(xlo, xhi, maxXTicks(box, '0.001')) }));
  body.push(yAxis(box, y, { label: 'achieved GFLOP/s', ticks: logTicks(ylo, yhi, maxYTicks(box)) }));

  // Roof: bandwidth ceiling from the left edge to the ridge, then the flat compute ceiling.
  const roofStart = Math.min(xlo, ridge);
  const roof = `${r(x(roofStart))},${r(y(bw * roofStart))} ${r(x(ridge))},${r(y(peak))} ${r(x(xhi))},${r(y(peak))}`;
  const roofParts = [`<g class="roof" clip-path="url(#roofline-clip)">`,
    `<polyline data-series="roofline" points="${roof}" fill="none" stroke="#000" stroke-width="2"/>`, '</g>'];
  // Ceiling labels just above the lines, inside the plot (above all data, which lies under the roof).
  const slope = Math.atan2(y(bw * ridge) - y(bw * roofStart), x(ridge) - x(roofStart)) * 180 / Math.PI;
  const bwLabelX = x(roofStart) + (x(ridge) - x(roofStart)) * 0.15;
  const bwLabelY = y(bw * roofStart) + (y(bw * ridge) - y(bw * roofStart)) * 0.15 - 6;
  roofParts.push(`<text x="${r(box.left + box.width - 6)}" y="${r(y(peak) - 6)}" text-anchor="end">` +
    `${esc(`peak ${fmt3(peak / 1e3)} TFLOP/s`)}</text>`);
  if (ridge > xlo) {
    roofParts.push(`<text x="${r(bwLabelX)}" y="${r(bwLabelY)}" transform="rotate(${r(slope)} ${r(bwLabelX)} ${r(bwLabelY)})">` +
      `${esc(`${fmt3(bw)} GB/s`)}</text>`);
  }
  roofParts.push(`<line x1="${r(x(ridge))}" y1="${r(y(peak))}" x2="${r(x(ridge))}" y2="${box.top + box.height}" ` +
    `stroke="#999" stroke-dasharray="3 3"/>`,
  `<text x="${r(x(ridge) + 4)}" y="${r(box.top + box.height - 6)}" fill="#666" font-size="${FONT - 1}">` +
    `${esc(`ridge ${fmt3(ridge)} FLOP/B`)}</text>`);
  body.push(roofParts.join(''));

  const data: string[] = [`<g class="data" clip-path="url(#roofline-clip)">`];
  if (points.every((p) => p.length === 0)) data.push(noData(box, 'no kernel with FLOPs, bytes and time'));
  models.forEach((m, i) => {
    data.push(`<g class="series" data-series="${esc(m.name)}/kernels">`);
    for (const p of points[i]) {
      data.push(`<g>${markerSvg('circle', x(p.x), y(p.y), colorOf(i), 3.5)}<title>${esc(`${m.name}: ${p.k.name}, ` +
        `${fmt3(p.x)} FLOP/B, ${fmt3(p.y)} GFLOP/s`)}</title></g>`);
    }
    data.push('</g>');
  });
  data.push('</g>');
  body.push(data.join(''));
  body.push(`<rect x="${box.left}" y="${box.top}" width="${box.width}" height="${box.height}" fill="none" stroke="#333"/>`);
  body.push(legend(box.left + box.width + 30, box.top + 6, entries, 'Kernels'));
  const subtitle = `ceilings: ${fmt3(peak / 1e3)} TFLOP/s and ${fmt3(bw)} GB/s (${peaks.source}); ` +
    'kernels with no FLOPs, bytes or time are not shown';
  return frame(width, height, options.title ?? 'Roofline: achieved FLOP/s vs operational intensity', subtitle, body.join(''));
}
