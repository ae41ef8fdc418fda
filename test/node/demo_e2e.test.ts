/**
 * End-to-end: serve the demo, open it in headless Chromium (real WebGL2 and WebGPU through SwiftShader) with
 * ?autorun on a small comparison, and check what a person would see. Saves a screenshot for a human to look at.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { type PageServer, startPageServer } from '../../scripts/page_server.js';

const root = new URL('../..', import.meta.url).pathname;
const CHROMIUM = process.env.CHROME_BIN ?? '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-angle=swiftshader',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'];

describe('demo page', { skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}` }, () => {
  let server: PageServer;
  let browser: Browser;
  before(async () => {
    server = await startPageServer({ entry: `${root}demo/main.ts`, staticDir: `${root}demo` });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('autoruns a comparison on webgl and webgpu with matching outputs and no console errors', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${server.url}?autorun&backends=webgl,webgpu&variant=atto&size=32&iterations=2&warmup=0`);
    await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.status ?? ''), null,
      { timeout: 600_000 });
    const status = await page.evaluate(() => document.body.dataset.status);
    const shown = await page.evaluate(() => document.querySelector('#error')?.textContent);
    mkdirSync(`${root}test-output`, { recursive: true });
    await page.screenshot({ path: `${root}test-output/demo.png`, fullPage: true });
    assert.equal(status, 'done', `page reported: ${shown}`);

    const rows = await page.evaluate(() => [...document.querySelectorAll('#results tbody tr')].map((tr) => ({
      model: (tr as HTMLElement).dataset.model, backend: (tr as HTMLElement).dataset.backend,
      cells: [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''),
      diff: (tr.querySelectorAll('td')[7] as HTMLElement | undefined)?.dataset.value,
    })));
    for (const backend of ['webgl', 'webgpu']) {
      for (const model of ['convnext-original', 'convnext-converted', 'convfirst']) {
        const row = rows.find((r) => r.model === model && r.backend === backend);
        assert.ok(row, `results table has ${model} on ${backend}`);
        assert.ok(Number(row.cells[3]) > 0, `${model} on ${backend} has a median latency (${row.cells[3]})`);
      }
      const converted = rows.find((r) => r.model === 'convnext-converted' && r.backend === backend)!;
      assert.ok(Number(converted.diff) <= 1e-3, `fused vs original max diff on ${backend}: ${converted.diff}`);
    }
    const results = await page.evaluate(() => (window as unknown as { demoResults: { rows: unknown[] } }).demoResults);
    assert.equal(results.rows.length, 6, 'window.demoResults has every row');
    assert.ok(await page.locator('#figures svg').count() >= 2, 'figures rendered');
    assert.deepEqual(errors, [], 'no console errors');
    await page.close();
  });

  it('names a backend the URL asks for that cannot run, instead of "choose at least one backend" alone', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}?autorun&backends=foo`);
    await page.waitForFunction(() => document.body.dataset.status === 'error', null, { timeout: 60_000 });
    const shown = await page.evaluate(() => document.querySelector('#error')?.textContent ?? '');
    assert.match(shown, /unknown backend 'foo' in the URL \(known: .*webgpu.*\)/);
    await page.close();
  });

  const mobilenet = `${root}../shared/fixtures/onnx/torchvision_mobilenet_v2_w025_op17.onnx`;

  /** Opens the page with `query`, drops `file` as the user's own model, runs the comparison and waits for its end. */
  async function runOwnModel(page: Page, query: string, file: string): Promise<void> {
    await page.goto(`${server.url}?${query}`);
    await page.waitForSelector('body[data-ready]');  // every handler attached
    await page.locator('details.own-model summary').click();
    await page.setInputFiles('#files', file);
    await page.click('#run');
    await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.status ?? ''), null,
      { timeout: 300_000 });
  }

  it('own model by keyboard (Enter on the drop zone opens the chooser) and back to the built-in models', async () => {
    const page = await browser.newPage();
    // Listening from the start: Playwright turns on file-chooser interception asynchronously when the first
    // listener comes, which would race a key press right after it.
    const chooserShown = page.waitForEvent('filechooser', { timeout: 60_000 });
    await page.goto(`${server.url}?backends=cpu`);
    await page.waitForSelector('body[data-ready]');  // every handler attached
    await page.locator('details.own-model summary').click();
    await page.focus('#dropzone');
    await page.keyboard.press('Enter');
    const chooser = await chooserShown;
    await chooser.setFiles(mobilenet);
    assert.match(await page.locator('#own-files').textContent() ?? '', /Will convert torchvision_mobilenet/);
    assert.equal(await page.locator('#clear-own').isVisible(), true);
    await page.click('#clear-own');
    assert.equal(await page.locator('#own-files').textContent(), '');
    assert.equal(await page.locator('#clear-own').isVisible(), false);
    await page.close();
  });

  it('a dropped model the converter cannot fuse: labelled "nothing fused", no speedup claimed, its own batch',
    { skip: existsSync(mobilenet) ? false : `no fixture at ${mobilenet}` }, async () => {
      const page = await browser.newPage();
      await runOwnModel(page, 'backends=cpu&batch=1&iterations=1&warmup=0&profile=0', mobilenet);
      assert.equal(await page.evaluate(() => document.body.dataset.status), 'done');
      const rows = await page.evaluate(() => (window as unknown as { demoResults: { rows: Array<{ label: string;
        batch: number; inputShape: number[]; fusedNodes: number }> } }).demoResults.rows);
      assert.equal(rows[1].label, 'Your model (converted: nothing fused)');
      assert.equal(rows[1].fusedNodes, 0);
      // The fixture's batch is fixed (not -1): the row reports the batch that ran, not the form's.
      assert.ok(rows[0].inputShape[0] > 0, `fixture batch is fixed: ${rows[0].inputShape}`);
      assert.equal(rows[0].batch, rows[0].inputShape[0]);
      // Speedup is column 6: between two stock-op graphs it is noise, never marked as a win.
      assert.equal(await page.locator('#results tbody tr td:nth-child(6).good').count(), 0, 'no speedup shown as a win');
      await page.close();
    });

  const onnx = `${root}../shared/fixtures/onnx/torchvision_convnext_tiny16_op17.onnx`;
  it('converts a dropped ONNX file in the page and compares it with its unfused original',
    { skip: existsSync(onnx) ? false : `no fixture at ${onnx}` }, async () => {
      const page = await browser.newPage({ viewport: { width: 390, height: 844 } });  // a phone-width layout
      const errors: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      page.on('pageerror', (e) => errors.push(String(e)));
      await runOwnModel(page, 'backends=webgl&iterations=2&warmup=0&profile=0', onnx);
      await page.screenshot({ path: `${root}test-output/demo-own-model-phone.png`, fullPage: true });
      const status = await page.evaluate(() => document.body.dataset.status);
      assert.equal(status, 'done', `page reported: ${await page.evaluate(() => document.querySelector('#error')?.textContent)}`);
      const rows = await page.evaluate(() => (window as unknown as { demoResults: { rows: Array<{ model: string;
        maxDiff: number | null; gpuPasses: number }> } }).demoResults.rows);
      assert.deepEqual(rows.map((r) => r.model), ['own-original', 'own-converted']);
      assert.ok(rows[1].maxDiff != null && rows[1].maxDiff <= 1e-3, `converted vs original: ${rows[1].maxDiff}`);
      assert.ok(rows[1].gpuPasses < rows[0].gpuPasses, `fewer draw calls fused (${rows[1].gpuPasses} vs ${rows[0].gpuPasses})`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the page fits a phone-width viewport (overflows by ${overflow}px)`);
      assert.deepEqual(errors, [], 'no console errors');
      await page.close();
    });
});
