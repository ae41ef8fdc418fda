/**
 * Waterline plot: kernels in dispatch order on x; the running sum of measured kernel times (solid) and
 * the running sum of roofline floors max(FLOPs / peak, bytes / bandwidth) (dashed, the "waterline") on y.
 * The vertical distance between a model's two curves at the end is the time above the floor; where the
 * solid curve climbs faster than the dashed one, those kernels are the gap.
 */
import { type DevicePeaks, waterline } from '../roofline.js';
import {
  checkFigureInput, clipRect, colorOf, esc, type FigureModel, fmt3, frame, legend, type LegendEntry, legendHeight, legendWidth,
  linearScale, linearTicks, maxXTicks, maxYTicks, noData, type PlotBox, r, xAxis, yAxis,
} from './common.js';

export interface WaterlineOptions {
  title?: string;
  width?: number;
  height?: number;
}

export function waterlineSvg(models: ReadonlyArray<FigureModel>, peaks: DevicePeaks,
  options: WaterlineOptions = {}): string {
  checkFigureInput('waterlineSvg', models, peaks);
  const lines = models.map((m) => waterline(m.kernels, peaks));
  // A model profiled without kernel timings (no timestamp queries) has no measured curve: drawn as 0 it would sit
  // under the floor, which is a lower bound.
  const timed = lines.map((w) => w.measured.length > 0 && w.measured[w.measured.length - 1] > 0);
  const entries: LegendEntry[] = [];
  models.forEach((m, i) => {
    const w = lines[i];
    const last = (a: number[]) => (a.length > 0 ? a[a.length - 1] : 0);
    entries.push({ label: timed[i] ? `${m.name}: measured ${fmt3(last(w.measured))} ms` : `${m.name}: measured: no timing`,
      color: colorOf(i), marker: 'line', series: `${m.name}/measured` });
    entries.push({ label: `${m.name}: floor ${fmt3(last(w.floor))} ms`, color: colorOf(i), marker: 'dashed',
      series: `${m.name}/floor` });
  });
  const lw = legendWidth(entries, 'Cumulative time');
  const box: PlotBox = { left: 90, top: 70, width: options.width ?? 620, height: options.height ?? 380 };
  const width = box.left + box.width + 30 + lw + 10;
  const height = Math.max(box.top + box.height + 70, box.top + legendHeight(entries, 'Cumulative time') + 20);
  let n = 1;
  let yMax = 1e-6;
  models.forEach((m, i) => {
    n = Math.max(n, m.kernels.length);
    for (const v of lines[i].floor) yMax = Math.max(yMax, v);
    if (timed[i]) for (const v of lines[i].measured) yMax = Math.max(yMax, v);
  });
  yMax *= 1.05;
  const x = linearScale([0, n], [box.left, box.left + box.width]);
  const y = linearScale([0, yMax], [box.top + box.height, box.top]);

  const body: string[] = [clipRect('waterline-clip', box)];
  body.push(xAxis(box, x, { label: 'kernel (dispatch order)', ticks: linearTicks(0, n, maxXTicks(box, String(n))) }));
  body.push(yAxis(box, y, { label: 'cumulative time (ms)', ticks: linearTicks(0, yMax, maxYTicks(box)) }));
  const data: string[] = [`<g class="data" clip-path="url(#waterline-clip)">`];
  if (models.every((m) => m.kernels.length === 0)) data.push(noData(box, 'no kernels'));
  models.forEach((m, i) => {
    for (const [kind, values] of [['measured', lines[i].measured], ['floor', lines[i].floor]] as const) {
      if (kind === 'measured' && !timed[i]) continue;
      // Kernel j spans x in [j, j + 1]; the running sum after it is plotted at j + 1.
      const pts = [`${r(x(0))},${r(y(0))}`, ...values.map((v, j) => `${r(x(j + 1))},${r(y(v))}`)].join(' ');
      const dash = kind === 'floor' ? ' stroke-dasharray="6 4"' : '';
      data.push(`<polyline class="series" data-series="${esc(m.name)}/${kind}" points="${pts}" fill="none" ` +
        `stroke="${colorOf(i)}" stroke-width="2"${dash}><title>${esc(`${m.name} ${kind}`)}</title></polyline>`);
    }
  });
  data.push('</g>');
  body.push(data.join(''));
  body.push(`<rect x="${box.left}" y="${box.top}" width="${box.width}" height="${box.height}" fill="none" stroke="#333"/>`);
  body.push(legend(box.left + box.width + 30, box.top + 6, entries, 'Cumulative time'));
  const subtitle = `floor per kernel = max(FLOPs / ${fmt3(peaks.flopsPerSecond / 1e12)} TFLOP/s, ` +
    `bytes / ${fmt3(peaks.bytesPerSecond / 1e9)} GB/s) (${peaks.source} peaks)`;
  return frame(width, height, options.title ?? 'Waterline: cumulative measured time vs cumulative floor', subtitle,
    body.join(''));
}
