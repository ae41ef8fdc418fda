import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { userPeaks } from '../../src/analysis/peaks.js';
import { FONT, type FigureModel, textWidth } from '../../src/analysis/svg/common.js';
import { efficiencyGapSvg } from '../../src/analysis/svg/efficiency_gap.js';
import { rooflineSvg } from '../../src/analysis/svg/roofline.js';
import { waterlineSvg } from '../../src/analysis/svg/waterline.js';
import { freshSeed, Rng } from '../support/random.js';
import { allElements, parseXml, textOf, type XmlElement } from '../support/xml.js';

const seed = freshSeed();
const peaks = userPeaks(60, 2700);

/** Synthetic models: kernels spread over six decades of FLOPs, some with no FLOPs or no time. */
function models(rng: Rng): FigureModel[] {
  const make = (name: string, n: number): FigureModel => ({
    name,
    kernels: Array.from({ length: n }, (_, i) => ({
      name: `k${i}`,
      flops: i % 7 === 3 ? 0 : 10 ** rng.int(3, 9) * (1 + rng.next()),
      bytes: 10 ** rng.int(3, 7) * (1 + rng.next()),
      timeMs: i % 11 === 5 ? 0 : 10 ** (rng.next() * 3 - 3),
    })),
  });
  return [make('ConvNeXt-T stock', 40), make('ConvNeXt-T fused', 12), make('<ConvFirst & "T">', 9)];
}

function plotted(m: FigureModel, needBytes = false): number {
  return m.kernels.filter((k) => k.flops > 0 && k.timeMs > 0 && (!needBytes || k.bytes > 0)).length;
}

function bySeries(root: XmlElement, series: string): XmlElement[] {
  return allElements(root).filter((e) => e.attrs['data-series'] === series);
}

/** Tick labels of one axis group, with positions. */
function ticks(root: XmlElement, axis: 'x-axis' | 'y-axis'): Array<{ x: number; y: number; text: string }> {
  const g = allElements(root).find((e) => e.attrs.class === `axis ${axis}`);
  assert.ok(g, `${axis} present`);
  return g.children.filter((e) => e.name === 'text' && e.attrs.class === 'tick')
    .map((e) => ({ x: Number(e.attrs.x), y: Number(e.attrs.y), text: e.text }));
}

function assertReadable(root: XmlElement, title: RegExp, xLabel: RegExp, yLabel: RegExp): void {
  assert.equal(root.name, 'svg');
  assert.equal(root.attrs.xmlns, 'http://www.w3.org/2000/svg');
  assert.ok(Number(root.attrs.width) > 300 && Number(root.attrs.height) > 200);
  const title_ = allElements(root).find((e) => e.attrs.class === 'title');
  assert.match(title_?.text ?? '', title);
  const labels = allElements(root).filter((e) => e.attrs.class === 'axis-label').map((e) => e.text);
  assert.equal(labels.length, 2);
  assert.match(labels[0], xLabel);
  assert.match(labels[1], yLabel);
  // x tick labels never touch: neighbours are further apart than half their widths summed.
  const xs = ticks(root, 'x-axis').sort((a, b) => a.x - b.x);
  assert.ok(xs.length >= 2, 'at least two x ticks');
  for (let i = 1; i < xs.length; i++) {
    assert.ok(xs[i].x - xs[i - 1].x > (textWidth(xs[i].text) + textWidth(xs[i - 1].text)) / 2,
      `x ticks '${xs[i - 1].text}' and '${xs[i].text}' overlap`);
  }
  const ys = ticks(root, 'y-axis').sort((a, b) => a.y - b.y);
  assert.ok(ys.length >= 2, 'at least two y ticks');
  for (let i = 1; i < ys.length; i++) assert.ok(ys[i].y - ys[i - 1].y > FONT, 'y ticks overlap');
  // The legend lies right of the plot frame (outside the data).
  const frameRect = root.children.filter((e) => e.name === 'rect' && e.attrs.fill === 'none').pop()!;
  const plotRight = Number(frameRect.attrs.x) + Number(frameRect.attrs.width);
  const legend = allElements(root).find((e) => e.attrs.class === 'legend')!;
  for (const t of allElements(legend).filter((e) => e.name === 'text')) {
    assert.ok(Number(t.attrs.x) > plotRight, 'legend text is outside the plot');
    assert.ok(Number(t.attrs.x) + textWidth(t.text) <= Number(root.attrs.width) + 1, `legend text '${t.text}' fits`);
  }
}

describe(`SVG figures (seed ${seed})`, () => {
  const rng = new Rng(seed);
  const data = models(rng);

  it('efficiency gap: well-formed, every model\'s kernels and total, constant-efficiency lines', () => {
    const svg = efficiencyGapSvg(data, peaks);
    const root = parseXml(svg);
    assertReadable(root, /Efficiency gap/, /ideal latency.*\(ms\)/, /measured latency \(ms\)/);
    for (const m of data) {
      const kernels = bySeries(root, `${m.name}/kernels`);
      assert.equal(kernels.length, 2, 'a legend entry and a data group');
      const group = kernels.find((e) => e.name === 'g' && e.attrs.class === 'series')!;
      assert.equal(allElements(group).filter((e) => e.name === 'circle').length, plotted(m));
      assert.equal(bySeries(root, `${m.name}/total`).length, 2);
    }
    const lines = allElements(root).filter((e) => e.attrs['data-efficiency'] != null);
    assert.ok(lines.some((e) => e.attrs['data-efficiency'] === '1'), 'the E = 100% line');
    assert.ok(lines.length >= 4);
    // E labels on the top edge do not touch each other.
    const labels = allElements(allElements(root).find((e) => e.attrs.class === 'efficiency-labels')!)
      .filter((e) => e.name === 'text' && e.attrs['text-anchor'] === 'middle')
      .map((e) => ({ x: Number(e.attrs.x), w: textWidth(e.text, FONT - 1) })).sort((a, b) => a.x - b.x);
    for (let i = 1; i < labels.length; i++) assert.ok(labels[i].x - labels[i - 1].x > (labels[i].w + labels[i - 1].w) / 2);
    assert.match(textOf(root), /<ConvFirst & "T">/, 'names are escaped, not dropped');
  });

  it('waterline: measured and floor curves per model, one point per kernel plus the origin', () => {
    const root = parseXml(waterlineSvg(data, peaks));
    assertReadable(root, /Waterline/, /kernel/, /cumulative time \(ms\)/);
    for (const m of data) {
      for (const kind of ['measured', 'floor']) {
        const line = bySeries(root, `${m.name}/${kind}`).find((e) => e.name === 'polyline');
        assert.ok(line, `${m.name}/${kind} polyline`);
        assert.equal(line.attrs.points.trim().split(/\s+/).length, m.kernels.length + 1);
      }
    }
  });

  it('roofline: the roof and every model\'s kernels', () => {
    const root = parseXml(rooflineSvg(data, peaks));
    assertReadable(root, /Roofline/, /intensity \(FLOP \/ byte\)/, /GFLOP\/s/);
    assert.ok(bySeries(root, 'roofline').some((e) => e.name === 'polyline'));
    for (const m of data) {
      const group = bySeries(root, `${m.name}/kernels`).find((e) => e.name === 'g' && e.attrs.class === 'series')!;
      assert.equal(allElements(group).filter((e) => e.name === 'circle').length, plotted(m, true));
    }
    assert.match(textOf(root), /peak 60 TFLOP\/s/);
    assert.match(textOf(root), /2700 GB\/s/);
  });

  it('no models, or kernels without FLOPs, still give well-formed figures saying so', () => {
    const empty: FigureModel[] = [{ name: 'empty', kernels: [{ name: 'Reshape', flops: 0, bytes: 0, timeMs: 0 }] }];
    for (const draw of [efficiencyGapSvg, rooflineSvg, waterlineSvg]) {
      parseXml(draw([], peaks));
      const root = parseXml(draw(empty, peaks));
      if (draw !== waterlineSvg) assert.match(textOf(root), /no kernel with/);
    }
  });

  it('the XML checker rejects malformed documents', () => {
    assert.throws(() => parseXml('<svg><g></svg>'), /does not match/);
    assert.throws(() => parseXml('<svg a="1" a="2"/>'), /duplicate attribute/);
    assert.throws(() => parseXml('<svg>a & b</svg>'), /bare '&'/);
    assert.throws(() => parseXml('<svg/><svg/>'), /after the root/);
    assert.throws(() => parseXml('<svg><text x=1>t</text></svg>'), /bad attribute/);
  });
});

describe('figures: untimed models, kernels above the measured peaks, very long kernel lists', () => {
  const untimed: FigureModel = { name: 'no timestamps', kernels: [
    { name: 'a', flops: 1e9, bytes: 1e6, timeMs: 0 }, { name: 'b', flops: 2e9, bytes: 4e6, timeMs: 0 }] };
  const timed: FigureModel = { name: 'timed', kernels: [{ name: 'a', flops: 1e9, bytes: 1e6, timeMs: 0.5 }] };

  it('a model without kernel times: no measured waterline, "no timing" in the legends (not 0 ms, E = 0%)', () => {
    const water = parseXml(waterlineSvg([untimed, timed], peaks));
    assert.equal(bySeries(water, 'no timestamps/measured').filter((e) => e.name === 'polyline').length, 0);
    assert.equal(bySeries(water, 'no timestamps/floor').filter((e) => e.name === 'polyline').length, 1);
    assert.equal(bySeries(water, 'timed/measured').filter((e) => e.name === 'polyline').length, 1);
    const legendText = allElements(water).map((e) => e.text).join('\n');
    assert.match(legendText, /no timestamps: measured: no timing/);
    assert.doesNotMatch(legendText, /no timestamps: measured 0 ms/);
    const gap = allElements(parseXml(efficiencyGapSvg([untimed, timed], peaks))).map((e) => e.text).join('\n');
    assert.match(gap, /no timestamps: no timing/);
    assert.doesNotMatch(gap, /E = 0%/);
  });

  it('a kernel measured faster than the peaks allow stays inside the roofline plot', () => {
    // 1e12 FLOPs in 1 ms = 1000 TFLOP/s against a 60 TFLOP/s peak.
    const fast: FigureModel = { name: 'fast', kernels: [{ name: 'k', flops: 1e12, bytes: 1e9, timeMs: 1 }] };
    const root = parseXml(rooflineSvg([fast], peaks));
    const frameRect = allElements(root).find((e) => e.name === 'rect' && e.attrs.stroke === '#333');
    assert.ok(frameRect);
    const top = Number(frameRect.attrs.y);
    const ys = allElements(root).filter((e) => e.attrs['data-series'] === 'fast/kernels')
      .flatMap((g) => allElements(g)).map((e) => Number(e.attrs.cy ?? e.attrs.y)).filter((v) => Number.isFinite(v));
    assert.ok(ys.length > 0, 'the kernel is drawn');
    for (const y of ys) assert.ok(y >= top, `point at y ${y} above the plot's top ${top}`);
  });

  it('200000 kernels draw without overflowing the call stack', () => {
    const many: FigureModel = { name: 'many', kernels: Array.from({ length: 200000 }, (_, i) =>
      ({ name: `k${i}`, flops: 1e6 + i, bytes: 1e4 + i, timeMs: 0.001 + i * 1e-9 })) };
    for (const draw of [efficiencyGapSvg, waterlineSvg, rooflineSvg]) assert.ok(draw([many], peaks).startsWith('<svg'));
  });
});

describe('figures: what they are drawn from is checked, not drawn as NaN coordinates', () => {
  const model = (k: Partial<{ flops: number; bytes: number; timeMs: number }>): FigureModel =>
    ({ name: 'm', kernels: [{ name: 'ok', flops: 1e6, bytes: 1e4, timeMs: 1 }, { name: 'Conv2D', flops: 1e6, bytes: 1e4, timeMs: 1, ...k }] });
  const draws = [['efficiencyGapSvg', efficiencyGapSvg], ['waterlineSvg', waterlineSvg], ['rooflineSvg', rooflineSvg]] as const;

  it('peaks that are missing, zero, negative or NaN are named', () => {
    for (const [name, draw] of draws) {
      for (const [bad, problem] of [
        [undefined, /peaks must be/],
        [{ flopsPerSecond: 0, bytesPerSecond: 1e9, source: 'user' }, /peaks\.flopsPerSecond must be a positive number, got 0/],
        [{ flopsPerSecond: 1e12, bytesPerSecond: -1, source: 'user' }, /peaks\.bytesPerSecond must be a positive number, got -1/],
        [{ flopsPerSecond: NaN, bytesPerSecond: 1e9, source: 'user' }, /peaks\.flopsPerSecond must be a positive number, got NaN/],
      ] as const) {
        assert.throws(() => draw([model({})], bad as never), (e: Error) => e.message.startsWith(`${name}: `) && problem.test(e.message),
          `${name} with ${JSON.stringify(bad)}`);
      }
    }
  });

  it('a kernel number that is not a finite count >= 0 is named with its model and kernel', () => {
    for (const [name, draw] of draws) {
      for (const [key, value] of [['timeMs', NaN], ['timeMs', -1], ['flops', NaN], ['bytes', Infinity], ['timeMs', undefined]] as const) {
        assert.throws(() => draw([model({ [key]: value })], peaks),
          new RegExp(`${name}: model 'm' kernel 1 \\(Conv2D\\): ${key} must be a finite number >= 0, got ${value}$`));
      }
      assert.throws(() => draw(undefined as never, peaks), /models must be an array/);
      assert.throws(() => draw([{ name: 'm' }] as never, peaks), /model 0 must be \{ name: string, kernels: array \}/);
      assert.doesNotMatch(draw([model({ timeMs: 0, flops: 0, bytes: 0 })], peaks), /NaN|Infinity/, 'zeros are data');
    }
  });
});
