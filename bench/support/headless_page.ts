/**
 * Bundle a browser entry with esbuild, serve it on localhost and run it in Debian's headless Chromium
 * (real WebGL2 and WebGPU through SwiftShader on a machine without a GPU). Used by the WebGL benchmark
 * and reusable by end-to-end tests: the entry module assigns `globalThis.__run = async (args) => result`,
 * and `runInHeadlessChromium` returns that result (JSON-serializable).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';

/** Flags that give WebGL2 / WebGPU on SwiftShader in headless mode, with the network kept quiet. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox', '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-angle=swiftshader',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic',
  '--no-first-run',
];

export interface HeadlessRunOptions {
  /** Path of the TypeScript/JavaScript entry to bundle. */
  entry: string;
  /** Passed to `globalThis.__run(args)` in the page. */
  args?: unknown;
  /** Chromium binary; default $CHROME_BIN or /usr/bin/chromium. */
  executablePath?: string;
  /** Whole-run limit in ms (default 10 minutes). */
  timeoutMs?: number;
  /** Receives the page's console lines (default: printed to stderr). */
  onConsole?: (line: string) => void;
  /** Extra files to serve: URL path -> [content type, bytes]. */
  files?: Record<string, [string, Uint8Array | string]>;
}

/** Bundles `entry` for the browser (ESM, ES2022) and returns the JavaScript text. */
export async function bundleForBrowser(entry: string): Promise<string> {
  const result = await esbuild.build({
    entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false,
    sourcemap: 'inline', logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  return result.outputFiles[0].text;
}

const PAGE = '<!doctype html><html><head><meta charset="utf-8"><title>headless run</title></head>' +
  '<body><script type="module" src="/bundle.js"></script></body></html>';

/** Serves the page and bundle on 127.0.0.1 at a free port. */
export async function serveBundle(js: string, files: HeadlessRunOptions['files'] = {}): Promise<{ url: string;
  close: () => Promise<void> }> {
  const routes: Record<string, [string, Uint8Array | string]> = {
    '/': ['text/html', PAGE], '/bundle.js': ['text/javascript', js], ...files,
  };
  const server: Server = createServer((req, res) => {
    const route = routes[(req.url ?? '/').split('?')[0]];
    if (route == null) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': route[0], 'cache-control': 'no-store' });
    res.end(route[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Bundles, serves, opens the page in headless Chromium, awaits `__run(args)` and returns its result. */
export async function runInHeadlessChromium<T = unknown>(options: HeadlessRunOptions): Promise<T> {
  const js = await bundleForBrowser(options.entry);
  const server = await serveBundle(js, options.files);
  const browser = await chromium.launch({
    executablePath: options.executablePath ?? process.env.CHROME_BIN ?? '/usr/bin/chromium',
    headless: true, args: CHROMIUM_FLAGS,
  });
  try {
    const page = await browser.newPage();
    const log = options.onConsole ?? ((line: string) => process.stderr.write(`[page] ${line}\n`));
    page.on('console', (m) => log(m.text()));
    page.on('pageerror', (e) => log(`page error: ${e.message}`));
    await page.goto(server.url);
    const timeout = options.timeoutMs ?? 600_000;
    await page.waitForFunction(() => typeof (globalThis as { __run?: unknown }).__run === 'function', undefined,
      { timeout: 60_000 });
    page.setDefaultTimeout(timeout);
    return await page.evaluate(async (args) =>
      (globalThis as unknown as { __run: (a: unknown) => Promise<unknown> }).__run(args), options.args) as T;
  } finally {
    await browser.close();
    await server.close();
  }
}
