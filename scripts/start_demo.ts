// `npm start`: bundles the demo page and serves it on localhost (offline). Options: --port N (default 8080,
// or PORT; falls back to a free port when taken), --host H.
import { type PageServer, startPageServer } from './page_server.js';

const root = new URL('..', import.meta.url).pathname;
const arg = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const host = arg('host') ?? '127.0.0.1';
const wanted = Number(arg('port') ?? process.env.PORT ?? 8080);
const options = { entry: `${root}demo/main.ts`, staticDir: `${root}demo`, host, onLog: (m: string) => console.log(m) };

let server: PageServer;
try {
  server = await startPageServer({ ...options, port: wanted });
} catch (e) {
  if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
  console.log(`port ${wanted} is taken; using a free one`);
  server = await startPageServer({ ...options, port: 0 });
}
console.log(`\ntfjs-block-fusion demo: ${server.url}\n(open ${server.url}?autorun to run the default comparison; Ctrl+C stops)`);
const stop = async () => { await server.close(); process.exit(0); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
