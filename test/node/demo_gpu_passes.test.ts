/**
 * The demo's "GPU passes / inference" column on WebGL counts every draw call, the fused blocks' multiple-render-
 * target passes included (they bypass runWebGLProgram), in headless Chromium (WebGL2 through SwiftShader).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { runInHeadlessChromium } from '../../bench/support/headless_page.js';

const CHROMIUM = process.env.CHROME_BIN ?? '/usr/bin/chromium';

describe('demo GPU pass count', { skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}` }, () => {
  it('on webgl equals the draw calls the context receives, for stock and fused models', async () => {
    const rows = await runInHeadlessChromium<{ model: string; counted: number; draws: number }[]>({
      entry: new URL('../support/demo_passes_probe.ts', import.meta.url).pathname,
      args: { models: ['convnext-original', 'convnext-converted', 'convfirst'] }, onConsole: () => {},
    });
    assert.equal(rows.length, 3);
    for (const r of rows) assert.equal(r.counted, r.draws, `${r.model}: counted ${r.counted}, draw calls ${r.draws}`);
  });
});
