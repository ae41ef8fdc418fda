/**
 * The demo page's run lifecycle in headless Chromium, on small cpu / webgl runs: Stop, the form disabled while
 * a run reads nothing from it, no stale results after a failed re-run, chosen files without a model named by Run, the
 * batch the log names, and the figures' message where this browser has no WebGPU (Chromium is started without
 * --enable-unsafe-webgpu).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { type PageServer, startPageServer } from '../../scripts/page_server.js';
import { smallConvNeXtOnnx } from '../support/convnext_onnx.js';

const root = new URL('../..', import.meta.url).pathname;
const CHROMIUM = process.env.CHROME_BIN ?? '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--enable-unsafe-swiftshader', '--use-angle=swiftshader',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'];
const SMALL = 'variant=atto&size=32&warmup=0&models=convnext-original';

type Status = 'done' | 'error' | 'stopped';

describe('demo page: running, stopping, failing', { skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}` }, () => {
  let server: PageServer;
  let browser: Browser;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'demo-ux-'));
    server = await startPageServer({ entry: `${root}demo/main.ts`, staticDir: `${root}demo` });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(query: string): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${server.url}?${query}`);
    await page.waitForSelector('body[data-ready]');
    return page;
  }

  async function waitEnd(page: Page): Promise<Status> {
    await page.waitForFunction(() => ['done', 'error', 'stopped'].includes(document.body.dataset.status ?? ''), null,
      { timeout: 120_000 });
    return await page.evaluate(() => document.body.dataset.status) as Status;
  }

  async function dropOwnModel(page: Page, files: string | string[]): Promise<void> {
    await page.locator('details.own-model summary').click();
    await page.setInputFiles('#files', files);
  }

  /** What the results card and the page's scripting interface hold. */
  const shown = (page: Page) => page.evaluate(() => ({
    rows: document.querySelectorAll('#results tbody tr[data-model]').length,
    empty: document.querySelector('#results tbody tr.empty')?.textContent ?? '',
    figures: document.querySelector('#figures')?.childElementCount ?? 0,
    demoResults: (window as unknown as { demoResults?: unknown }).demoResults !== undefined,
    download: !(document.querySelector('#download') as HTMLButtonElement).disabled,
  }));

  /** Whether the form's settings can be changed and Run / Stop offered. */
  const controls = (page: Page) => page.evaluate(() => ({
    settingsDisabled: (document.querySelector('#settings') as HTMLFieldSetElement | null)?.disabled ?? false,
    batchDisabled: document.querySelector('input[name=batch]')!.matches(':disabled'),
    runDisabled: (document.querySelector('#run') as HTMLButtonElement).disabled,
    stopVisible: (document.querySelector('#stop') as HTMLButtonElement | null)?.checkVisibility() ?? false,
    stopEnabled: (document.querySelector('#stop') as HTMLButtonElement | null)?.disabled === false,
  }));

  it('Stop ends a long run: status "stopped", no results kept, the form back for another run', async () => {
    const page = await open(`backends=cpu&${SMALL}&iterations=500&profile=0`);
    assert.deepEqual(await controls(page), { settingsDisabled: false, batchDisabled: false, runDisabled: false,
      stopVisible: false, stopEnabled: false }, 'idle: the form is editable, no Stop');
    await page.click('#run');
    await page.waitForFunction(() => document.querySelector('#stage')?.textContent?.startsWith('Timing'), null,
      { timeout: 60_000 });
    assert.deepEqual(await controls(page), { settingsDisabled: true, batchDisabled: true, runDisabled: true,
      stopVisible: true, stopEnabled: true }, 'running: the form is disabled, Stop offered');
    await page.click('#stop');
    assert.equal(await waitEnd(page), 'stopped');
    assert.equal(await page.locator('#stage').textContent(), 'Stopped.');
    assert.match(await page.locator('#log li').last().textContent() ?? '', /^stopped after/);
    assert.deepEqual(await shown(page), { rows: 0, empty: 'Stopped: the partial results were discarded. Press Run to start again.',
      figures: 0, demoResults: false, download: false });
    assert.deepEqual(await controls(page), { settingsDisabled: false, batchDisabled: false, runDisabled: false,
      stopVisible: false, stopEnabled: false }, 'stopped: the form is editable again, no Stop');

    await page.fill('input[name=iterations]', '1');
    await page.click('#run');
    assert.equal(await waitEnd(page), 'done');
    assert.equal((await shown(page)).rows, 1);
    assert.equal(await page.evaluate(() => (window as unknown as { demoResults: { config: { iterations: number } } })
      .demoResults.config.iterations), 1, 'the changed form was read');
    await page.close();
  });

  it('a failing re-run clears the previous results, figures and download; the form is enabled after the error', async () => {
    const page = await open(`backends=cpu&${SMALL}&iterations=1&profile=1`);
    await page.click('#run');
    assert.equal(await waitEnd(page), 'done');
    const good = await shown(page);
    assert.ok(good.rows === 1 && good.figures > 0 && good.demoResults && good.download, JSON.stringify(good));

    // A model.json whose weight shard was not dropped with it: the run fails while reading it.
    const modelJson = join(dir, 'model.json');
    writeFileSync(modelJson, JSON.stringify({ modelTopology: { node: [] },
      weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [] }] }));
    await dropOwnModel(page, modelJson);
    await page.click('#run');
    assert.equal(await waitEnd(page), 'error');
    assert.match(await page.locator('#error').textContent() ?? '', /group1-shard1of1\.bin/);
    assert.deepEqual(await shown(page), { rows: 0, empty: 'No results: the run failed (see Progress).', figures: 0,
      demoResults: false, download: false });
    const after = await controls(page);
    assert.ok(!after.settingsDisabled && !after.runDisabled && !after.stopVisible, JSON.stringify(after));
    await page.close();
  });

  it('a seed in the URL that is not an integer is named as typed (not as NaN)', async () => {
    const page = await open(`autorun&backends=cpu&${SMALL}&iterations=1&profile=0&seed=abc`);
    assert.equal(await waitEnd(page), 'error');
    assert.match(await page.locator('#error').textContent() ?? '', /seed 'abc' in the URL must be an integer/);
    await page.close();
  });

  it('chosen files without a model: Run fails naming them, not a quiet run of the built-in models; then back to those', async () => {
    const data = join(dir, 'weights.onnx.data');
    writeFileSync(data, new Uint8Array(16));
    const page = await open(`backends=cpu&${SMALL}&iterations=1&profile=0`);
    await dropOwnModel(page, data);
    assert.match(await page.locator('#own-files').textContent() ?? '', /^weights\.onnx\.data: expected an \.onnx file or a model\.json/);
    await page.click('#run');
    assert.equal(await waitEnd(page), 'error', 'the file was not silently ignored');
    assert.match(await page.locator('#error').textContent() ?? '', /weights\.onnx\.data: no \.onnx file or model\.json among the chosen files/);
    assert.equal((await shown(page)).rows, 0);
    await page.click('#clear-own');
    await page.click('#run');
    assert.equal(await waitEnd(page), 'done');
    assert.deepEqual(await page.evaluate(() => [...document.querySelectorAll<HTMLElement>('#results tbody tr[data-model]')]
      .map((tr) => tr.dataset.model)), ['convnext-original']);
    await page.close();
  });

  it('the log names the batch a fixed-batch model runs, not the form\'s', async () => {
    const onnx = join(dir, 'fixed_batch.onnx');
    writeFileSync(onnx, smallConvNeXtOnnx([1, 3, 32, 32]));
    const page = await open('backends=cpu&batch=3&iterations=1&warmup=0&profile=0');
    await dropOwnModel(page, onnx);
    await page.click('#run');
    assert.equal(await waitEnd(page), 'done');
    const log = await page.locator('#log li').allTextContents();
    assert.doesNotMatch(log[0], /· batch 3 ·/, `the first line does not claim batch 3: ${log[0]}`);
    assert.ok(log.some((l) => l.startsWith('Input: batch 1 (fixed by the model; the form\'s 3 does not apply)')), log.join('\n'));
    await page.close();
  });

  it('without WebGPU the figures\' message does not tell to run webgpu', async () => {
    const page = await open(`autorun&backends=webgl&${SMALL}&iterations=1&profile=1`);
    assert.equal(await waitEnd(page), 'done');
    assert.equal(await page.locator('#backends input[value=webgpu]').isDisabled(), true, 'this browser has no WebGPU');
    const message = await page.locator('#figures').innerText();
    assert.doesNotMatch(message, /run webgpu/);
    assert.match(message, /No peak figures for webgl: a GPU's peaks are measured with WebGPU, which this browser cannot run \(.+\)/);
    await page.close();
  });
});
