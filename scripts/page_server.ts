// A small offline page server: bundles a TypeScript entry with esbuild (browser, ESM) and serves it with a
// folder of static files on localhost. Used by `npm start` (the demo) and by tests and benches that drive
// a page in headless Chromium. Nothing is fetched from the internet.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import * as esbuild from 'esbuild';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream', '.onnx': 'application/octet-stream', '.map': 'application/json',
};

/**
 * Bundles `entry` to /bundle.js and serves `staticDir` (plus `extraRoutes`: url prefix -> folder).
 * Resolves to { url, close() } once listening; port 0 picks a free port.
 */
export interface PageServerOptions {
  entry: string;
  staticDir: string;
  port?: number;
  host?: string;
  extraRoutes?: Record<string, string>;
  minify?: boolean;
  onLog?: (message: string) => void;
  /** When `port` is taken, listen on a free one instead of rejecting (EADDRINUSE); said through onLog. */
  fallbackToFreePort?: boolean;
}

export interface PageServer { url: string; close(): Promise<void> }

export async function startPageServer({ entry, staticDir, port = 0, host = '127.0.0.1', extraRoutes = {},
  minify = false, onLog = () => {}, fallbackToFreePort = false }: PageServerOptions): Promise<PageServer> {
  onLog(`bundling ${entry} ...`);
  const t0 = Date.now();
  const built = await esbuild.build({
    entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false,
    sourcemap: 'inline', minify, logLevel: 'warning', outfile: 'bundle.js',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const bundle = built.outputFiles[0].contents;
  onLog(`bundled ${(bundle.length / 1e6).toFixed(1)} MB in ${Date.now() - t0} ms`);
  const routes = Object.entries({ '/': staticDir, ...extraRoutes }).sort((a, b) => b[0].length - a[0].length);

  const server = createServer(async (req, res) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      // A malformed escape (%E0%A4%A) threw out of the handler: an unhandled rejection that ended the server.
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('bad request: malformed URL escape');
      return;
    }
    try {
      if (path === '/bundle.js') {
        res.writeHead(200, { 'content-type': TYPES['.js'], 'cache-control': 'no-store' });
        res.end(bundle);
        return;
      }
      const [prefix, dir] = routes.find(([p]) => path.startsWith(p))!;
      const rel = normalize(path.slice(prefix.length)).replace(/^(\.\.[/\\])+/, '');
      const file = join(dir, rel === '' || rel === '.' || rel.endsWith('/') ? join(rel, 'index.html') : rel);
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`not found: ${path}`);
    }
  });
  const listen = (p: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(p, host, () => { server.off('error', reject); resolve(); });
  });
  try {
    await listen(port);
  } catch (e) {
    if (!fallbackToFreePort || port === 0 || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    onLog(`port ${port} is taken; using a free one`);
    await listen(0);
  }
  // An IPv6 address is bracketed in a URL: http://::1:8080/ is no URL a browser opens.
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${(server.address() as AddressInfo).port}/`;
  return { url, close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}
