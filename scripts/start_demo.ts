// `npm start`: bundles the demo page and serves it on localhost (offline). Options: --port N (or PORT; default
// 8080, which falls back to a free port when taken: a port asked for that is taken is an error), --host H.
import { parseArgs } from 'node:util';
import { type PageServer, startPageServer } from './page_server.js';

const USAGE = 'usage: npm start [-- --port N] [--host H]   (PORT=N also sets the port; default 127.0.0.1:8080)';
const root = new URL('..', import.meta.url).pathname;
let values: { port?: string; host?: string; help?: boolean };
try {
  ({ values } = parseArgs({ options: { port: { type: 'string' }, host: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
} catch (e) {
  console.error(`error: ${(e as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const host = values.host ?? '127.0.0.1';
const asked = values.port ?? process.env.PORT;
const port = Number(asked ?? 8080);
if (!/^\d+$/.test(asked ?? '8080') || port > 65535) {
  console.error(`error: the port must be an integer 0-65535, got ${JSON.stringify(asked)}\n${USAGE}`);
  process.exit(2);
}

let server: PageServer;
try {
  // Only the default may move: someone who named a port would otherwise open a URL that is not the demo.
  server = await startPageServer({ entry: `${root}demo/main.ts`, staticDir: `${root}demo`, host, port,
    fallbackToFreePort: asked == null, onLog: (m: string) => console.log(m) });
} catch (e) {
  if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
  console.error(`error: port ${port} on ${host} is already in use; free it or choose another with --port`);
  process.exit(1);
}
console.log(`\ntfjs-block-fusion demo: ${server.url}\n(open ${server.url}?autorun to run the default comparison; Ctrl+C stops)`);
const stop = async () => { await server.close(); process.exit(0); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
