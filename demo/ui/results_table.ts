/** Renders comparison rows into the results table. */
import type { ModelRow } from '../lib/comparison.js';
import { isOriginalModel } from '../lib/model_sources.js';

const fmt = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : '—');

function params(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : String(n);
}

function cell(text: string, cls = 'num'): HTMLTableCellElement {
  const td = document.createElement('td');
  td.className = cls;
  td.textContent = text;
  return td;
}

/** Max difference the page flags as a correctness problem (float32 rounding across a whole network is far below). */
export const DIFF_LIMIT = 1e-3;

/**
 * Whether a row's speedup is shown as a win of fusion: over 5 % and its model has more fused ops than the original it
 * is timed against. Between two stock-op graphs, or an already fused model and itself, a speedup is timing noise.
 */
export function isFusionWin(row: ModelRow, rows: readonly ModelRow[]): boolean {
  const original = rows.find((o) => o.backend === row.backend && isOriginalModel(o.model));
  return row.speedup != null && row.speedup > 1.05 && row.fusedNodes > (original?.fusedNodes ?? 0);
}

/** `emptyText`: what an empty table says (why there are no rows: running, failed, stopped). */
export function renderResults(tbody: HTMLTableSectionElement, rows: readonly ModelRow[], emptyText = 'No results.'): void {
  tbody.replaceChildren();
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    tr.className = 'empty';
    tr.append(cell(emptyText, ''));
    (tr.firstChild as HTMLTableCellElement).colSpan = 10;
    tbody.append(tr);
    return;
  }
  for (const r of rows) {
    const tr = document.createElement('tr');
    tr.dataset.model = r.model;
    tr.dataset.backend = r.backend;
    const speed = cell(r.speedup == null ? '—' : `${fmt(r.speedup)}x`);
    if (isFusionWin(r, rows)) speed.classList.add('good');
    const diff = cell(r.maxDiff == null ? '—' : r.maxDiff.toExponential(1));
    diff.dataset.value = String(r.maxDiff ?? '');
    if (r.maxDiff != null) diff.classList.add(r.maxDiff <= DIFF_LIMIT ? 'good' : 'bad');
    tr.append(cell(r.label, ''), cell(r.backend, ''), cell(String(r.batch)), cell(fmt(r.medianMs)), cell(fmt(r.p90Ms)),
      speed, cell(String(r.gpuPasses)), diff, cell(r.gflops == null ? '—' : fmt(r.gflops, 3)), cell(params(r.params)));
    tbody.append(tr);
  }
}
