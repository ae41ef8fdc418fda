/** bench/support/headless_page.ts: bundle + serve + run an entry in headless Chromium, with browser CPU time. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { processTreeCpuMs, runInHeadlessChromium } from '../../bench/support/headless_page.js';

const CHROMIUM = process.env.CHROME_BIN ?? '/usr/bin/chromium';

describe('runInHeadlessChromium', { skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}` }, () => {
  it('returns what the page resolves, with WebGL 2 and the browser CPU clock available', async () => {
    const args = { n: 3, s: 'x' };
    const result = await runInHeadlessChromium<{ echo: unknown; webgl2: boolean; cpuMs: number | null }>({
      entry: new URL('../support/headless_probe.ts', import.meta.url).pathname, args, exposeCpuTime: true,
      onConsole: () => {},
    });
    assert.deepEqual(result.echo, args);
    assert.equal(result.webgl2, true);
    assert.ok(result.cpuMs != null && result.cpuMs > 0, `browser CPU ms ${result.cpuMs}`);
  });

  it('counts CPU time of a process tree', () => {
    const own = processTreeCpuMs(process.pid);
    assert.ok(own > 0 && Number.isFinite(own), `own CPU ms ${own}`);
  });
});
