/**
 * Run a browser entry in Debian's headless Chromium (real WebGL2 and WebGPU through SwiftShader on a
 * machine without a GPU): bundled and served by scripts/page_server.ts, driven by playwright-core. The
 * entry module assigns `globalThis.__run = async (args) => result`, and `runInHeadlessChromium` returns
 * that result (JSON-serializable). Used by the WebGL benchmark; reusable by any bench or test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startPageServer } from '../../scripts/page_server.js';

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
  /**
   * Expose `globalThis.__browserCpuMs()` to the page: CPU time (user + system, ms) used so far by the
   * browser's process tree, GPU process (SwiftShader) included. On a shared machine this is a steadier
   * measure of work than wall time.
   */
  exposeCpuTime?: boolean;
  /** Extra folders to serve: URL prefix -> folder. */
  extraRoutes?: Record<string, string>;
}

/** Bundles, serves, opens the page in headless Chromium, awaits `__run(args)` and returns its result. */
export async function runInHeadlessChromium<T = unknown>(options: HeadlessRunOptions): Promise<T> {
  const server = await startPageServer({ entry: options.entry, extraRoutes: options.extraRoutes,
    staticDir: fileURLToPath(new URL('./page/', import.meta.url)) });
  const browser = await chromium.launch({
    executablePath: options.executablePath ?? process.env.CHROME_BIN ?? '/usr/bin/chromium',
    headless: true, args: CHROMIUM_FLAGS,
  });
  try {
    const page = await browser.newPage();
    const log = options.onConsole ?? ((line: string) => process.stderr.write(`[page] ${line}\n`));
    page.on('console', (m) => log(m.text()));
    page.on('pageerror', (e) => log(`page error: ${e.message}`));
    if (options.exposeCpuTime) {
      // The browser's processes are this Node process's descendants (Node's own time is left out).
      await page.exposeFunction('__browserCpuMs', () => processTreeCpuMs(process.pid, false));
    }
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

/** User + system CPU ms of process `root` (optionally) and all its descendants (Linux /proc; clock ticks of 10 ms). */
export function processTreeCpuMs(root: number, includeRoot = true): number {
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      // After the command: state(0) ppid(1) ... utime(11) stime(12).
      stats.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch { /* process exited meanwhile */ }
  }
  let total = 0;
  const inTree = (pid: number): boolean => {
    for (let p = pid, depth = 0; p > 1 && depth < 64; depth++) {
      if (p === root) return true;
      p = stats.get(p)?.ppid ?? 0;
    }
    return false;
  };
  for (const [pid, s] of stats) if (inTree(pid) && (includeRoot || pid !== root)) total += s.ticks;
  return total * 10;
}
