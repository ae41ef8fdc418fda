/**
 * Small SVG toolkit for the analysis figures: scales, tick choice that never crowds labels, axes, legend
 * placed outside the data, and the figure frame. Pure string building, browser-safe, no DOM.
 */

import { checkPeaks, type DevicePeaks } from '../roofline.js';

/** What a figure needs of a model: its name and kernels (totals are sums over kernels). */
export interface FigureKernel {
  name: string;
  flops: number;
  bytes: number;
  timeMs: number;
}
export interface FigureModel {
  name: string;
  kernels: ReadonlyArray<FigureKernel>;
}

/**
 * Checks what a figure is drawn from (the figure functions are public and take data from elsewhere, e.g. a saved
 * analysis.json or another profiler): peaks that are not positive, or a kernel number that is not a finite
 * count >= 0, put NaN and Infinity into every coordinate of the SVG. Throws naming the figure and the value.
 */
export function checkFigureInput(figure: string, models: ReadonlyArray<FigureModel>, peaks: DevicePeaks): void {
  try {
    checkPeaks(peaks);
  } catch (e) {
    throw new Error(`${figure}: ${(e as Error).message}`);
  }
  if (!Array.isArray(models)) throw new Error(`${figure}: models must be an array of { name, kernels }, got ${typeof models}`);
  for (const [i, m] of (models as ReadonlyArray<FigureModel | null | undefined>).entries()) {
    if (m == null || typeof m.name !== 'string' || !Array.isArray(m.kernels)) {
      throw new Error(`${figure}: model ${i} must be { name: string, kernels: array }`);
    }
    for (const [j, k] of (m.kernels as ReadonlyArray<FigureKernel | null | undefined>).entries()) {
      for (const key of ['flops', 'bytes', 'timeMs'] as const) {
        const v: unknown = k?.[key];
        if (!(typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
          throw new Error(`${figure}: model '${m.name}' kernel ${j} (${k?.name}): ${key} must be a finite number >= 0, got ${v}`);
        }
      }
    }
  }
}

/** Colour-blind-safe palette (Okabe-Ito, without yellow, which is unreadable on white). */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#56B4E9', '#E69F00', '#000000'];
export const colorOf = (i: number): string => PALETTE[i % PALETTE.length];

export const FONT = 13;
const CHAR_WIDTH = 0.62; // average glyph width / font size for sans-serif digits and letters

export function textWidth(text: string, size = FONT): number {
  return text.length * size * CHAR_WIDTH;
}

export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A number as a short label: 0.001, 0.25, 12, 3400, 1e-5, 2e+6. */
export function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) {
    const [m, e] = v.toExponential(1).split('e');
    return `${m.replace(/\.0$/, '')}e${e.replace('+', '')}`;
  }
  return String(Number(v.toPrecision(3)));
}

/** A value with 3 significant digits, for legends. */
export function fmt3(v: number): string {
  return Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : String(Number(v.toPrecision(3)));
}

export interface Scale {
  (v: number): number;
  domain: [number, number];
  range: [number, number];
  log: boolean;
}

export function linearScale(domain: [number, number], range: [number, number]): Scale {
  const [d0, d1] = domain;
  const span = d1 - d0 || 1;
  const f = ((v: number) => range[0] + (v - d0) / span * (range[1] - range[0])) as Scale;
  return Object.assign(f, { domain, range, log: false });
}

export function logScale(domain: [number, number], range: [number, number]): Scale {
  const l0 = Math.log10(domain[0]);
  const span = Math.log10(domain[1]) - l0 || 1;
  const f = ((v: number) => range[0] + (Math.log10(v) - l0) / span * (range[1] - range[0])) as Scale;
  return Object.assign(f, { domain, range, log: true });
}

/** Decade ticks (1, 10, 100 ...) inside the domain, every `step`-th decade so that at most maxTicks remain. */
export function logTicks(lo: number, hi: number, maxTicks: number): number[] {
  const first = Math.ceil(Math.log10(lo) - 1e-9);
  const last = Math.floor(Math.log10(hi) + 1e-9);
  const count = last - first + 1;
  if (count <= 0) return [];
  const step = Math.max(1, Math.ceil(count / Math.max(1, maxTicks)));
  const ticks: number[] = [];
  for (let e = first; e <= last; e += step) ticks.push(Number(`1e${e}`));
  return ticks;
}

/** "Nice" ticks (steps of 1, 2 or 5 x 10^k) from lo to hi, at most maxTicks. */
export function linearTicks(lo: number, hi: number, maxTicks: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, maxTicks - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Domain padded by a factor on each side (log scales); a degenerate domain is widened to a decade. */
export function logDomain(values: number[], pad = 1.6): [number, number] {
  const pos = values.filter((v) => v > 0 && Number.isFinite(v));
  if (pos.length === 0) return [0.1, 10];
  // Loops, not Math.min(...pos): a spread of 10^5 values overflows the call stack.
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of pos) { if (v < lo) lo = v; if (v > hi) hi = v; }
  lo /= pad;
  hi *= pad;
  if (hi / lo < 10) {
    const mid = Math.sqrt(lo * hi);
    lo = mid / Math.sqrt(10);
    hi = mid * Math.sqrt(10);
  }
  return [lo, hi];
}

export interface PlotBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Horizontal gap (px) kept between neighbouring tick labels. */
const TICK_GAP = 12;

/** How many x tick labels fit: the widest label plus a gap per tick. */
export function maxXTicks(box: PlotBox, sampleLabel: string): number {
  return Math.max(2, Math.floor(box.width / (textWidth(sampleLabel) + TICK_GAP)));
}
export function maxYTicks(box: PlotBox): number {
  return Math.max(2, Math.floor(box.height / (FONT * 2.2)));
}

export interface AxisOptions {
  label: string;
  ticks: number[];
  format?: (v: number) => string;
  /** Draw light grid lines across the plot at each tick. */
  grid?: boolean;
}

export function xAxis(box: PlotBox, scale: Scale, o: AxisOptions): string {
  const y = box.top + box.height;
  const format = o.format ?? fmt;
  const parts = [`<g class="axis x-axis">`,
    `<line x1="${box.left}" y1="${y}" x2="${box.left + box.width}" y2="${y}" stroke="#333"/>`];
  for (const t of o.ticks) {
    const x = r(scale(t));
    if (o.grid !== false) parts.push(`<line x1="${x}" y1="${box.top}" x2="${x}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<line x1="${x}" y1="${y}" x2="${x}" y2="${y + 5}" stroke="#333"/>`,
      `<text class="tick" x="${x}" y="${y + 8 + FONT}" text-anchor="middle">${esc(format(t))}</text>`);
  }
  parts.push(`<text class="axis-label" x="${r(box.left + box.width / 2)}" y="${y + 16 + 2 * FONT}" ` +
    `text-anchor="middle" font-weight="bold">${esc(o.label)}</text>`, '</g>');
  return parts.join('');
}

export function yAxis(box: PlotBox, scale: Scale, o: AxisOptions): string {
  const format = o.format ?? fmt;
  const parts = [`<g class="axis y-axis">`,
    `<line x1="${box.left}" y1="${box.top}" x2="${box.left}" y2="${box.top + box.height}" stroke="#333"/>`];
  let widest = 0;
  for (const t of o.ticks) {
    const y = r(scale(t));
    const label = format(t);
    widest = Math.max(widest, textWidth(label));
    if (o.grid !== false) parts.push(`<line x1="${box.left}" y1="${y}" x2="${box.left + box.width}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<line x1="${box.left - 5}" y1="${y}" x2="${box.left}" y2="${y}" stroke="#333"/>`,
      `<text class="tick" x="${box.left - 8}" y="${r(y + FONT * 0.35)}" text-anchor="end">${esc(label)}</text>`);
  }
  const lx = r(box.left - 16 - widest - FONT * 0.5);
  const ly = r(box.top + box.height / 2);
  parts.push(`<text class="axis-label" x="${lx}" y="${ly}" text-anchor="middle" font-weight="bold" ` +
    `transform="rotate(-90 ${lx} ${ly})">${esc(o.label)}</text>`, '</g>');
  return parts.join('');
}

export type Marker = 'circle' | 'diamond' | 'line' | 'dashed' | 'square';

export interface LegendEntry {
  label: string;
  color: string;
  marker: Marker;
  /** Identifies the series in the SVG (data-series attribute). */
  series?: string;
}

export function markerSvg(marker: Marker, x: number, y: number, color: string, size = 4): string {
  switch (marker) {
    case 'circle':
      return `<circle cx="${r(x)}" cy="${r(y)}" r="${size}" fill="${color}" fill-opacity="0.7"/>`;
    case 'square':
      return `<rect x="${r(x - size)}" y="${r(y - size)}" width="${2 * size}" height="${2 * size}" fill="${color}"/>`;
    case 'diamond': {
      const s = size * 1.6;
      return `<path d="M${r(x)} ${r(y - s)}L${r(x + s)} ${r(y)}L${r(x)} ${r(y + s)}L${r(x - s)} ${r(y)}Z" ` +
        `fill="${color}" stroke="#000" stroke-width="1.2"/>`;
    }
    case 'line':
      return `<line x1="${r(x - 12)}" y1="${r(y)}" x2="${r(x + 12)}" y2="${r(y)}" stroke="${color}" stroke-width="2.5"/>`;
    case 'dashed':
      return `<line x1="${r(x - 12)}" y1="${r(y)}" x2="${r(x + 12)}" y2="${r(y)}" stroke="${color}" ` +
        `stroke-width="2.5" stroke-dasharray="6 4"/>`;
  }
}

export const LEGEND_ROW = FONT * 1.6;

/** Width the legend needs. */
export function legendWidth(entries: LegendEntry[], title?: string): number {
  const widest = Math.max(title ? textWidth(title) : 0, ...entries.map((e) => 30 + textWidth(e.label)));
  return widest + 16;
}

/** A legend in a column starting at (x, y): outside the plot box by construction of the figure layout. */
export function legend(x: number, y: number, entries: LegendEntry[], title?: string): string {
  const parts = [`<g class="legend">`];
  let cy = y;
  if (title) {
    parts.push(`<text x="${r(x)}" y="${r(cy + FONT * 0.35)}" font-weight="bold">${esc(title)}</text>`);
    cy += LEGEND_ROW;
  }
  for (const e of entries) {
    const series = e.series ? ` data-series="${esc(e.series)}"` : '';
    parts.push(`<g class="legend-entry"${series}>`, markerSvg(e.marker, x + 12, cy, e.color),
      `<text x="${r(x + 30)}" y="${r(cy + FONT * 0.35)}">${esc(e.label)}</text></g>`);
    cy += LEGEND_ROW;
  }
  parts.push('</g>');
  return parts.join('');
}

export function legendHeight(entries: LegendEntry[], title?: string): number {
  return (entries.length + (title ? 1 : 0)) * LEGEND_ROW;
}

/** The whole document: white background, title and subtitle above the plot. */
export function frame(width: number, height: number, title: string, subtitle: string, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${r(width)}" height="${r(height)}" ` +
    `viewBox="0 0 ${r(width)} ${r(height)}" font-family="DejaVu Sans, Arial, Helvetica, sans-serif" ` +
    `font-size="${FONT}" fill="#222">` +
    `<rect width="100%" height="100%" fill="#fff"/>` +
    `<text class="title" x="${r(width / 2)}" y="26" text-anchor="middle" font-size="${FONT + 5}" ` +
    `font-weight="bold">${esc(title)}</text>` +
    (subtitle ? `<text class="subtitle" x="${r(width / 2)}" y="46" text-anchor="middle" fill="#555">${esc(subtitle)}</text>` : '') +
    body + '</svg>';
}

export function clipRect(id: string, box: PlotBox): string {
  return `<defs><clipPath id="${id}"><rect x="${box.left}" y="${box.top}" width="${box.width}" ` +
    `height="${box.height}"/></clipPath></defs>`;
}

/** Rounds a coordinate to 0.1 px to keep the SVG small. */
export function r(v: number): number {
  return Math.round(v * 10) / 10;
}

/** Empty-figure message inside the plot box. */
export function noData(box: PlotBox, message: string): string {
  return `<text x="${r(box.left + box.width / 2)}" y="${r(box.top + box.height / 2)}" text-anchor="middle" ` +
    `fill="#888">${esc(message)}</text>`;
}
