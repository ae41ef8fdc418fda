/**
 * `npm start`'s port (scripts/start_demo.ts, scripts/page_server.ts): a port asked for (--port, PORT) that is
 * taken is an error naming it, not a silent move to another port; only the default falls back to a free one. A bad
 * request is answered, not fatal.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startPageServer } from '../../scripts/page_server.js';

const root = new URL('../..', import.meta.url).pathname;
const probeEntry = `${root}test/support/headless_probe.ts`;

/** Runs `npm start`'s script until it exits or prints its URL (then it is stopped: the old, silent fallback). */
function startDemo(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start_demo.ts', ...args],
      { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const take = (d: Buffer) => {
      out += d;
      if (/demo: http/.test(out)) child.kill('SIGTERM');
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('demo server port', () => {
  let busy: Server;
  let port: number;
  before(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    port = (busy.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => busy.close(() => resolve())));

  it('--port N on a taken port exits non-zero, naming the port', async () => {
    const { code, out } = await startDemo(['--port', String(port)]);
    assert.notEqual(code, 0, `exited ${code}: ${out}`);
    assert.match(out, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
    assert.doesNotMatch(out, /demo: http/);
  });

  it('PORT=N on a taken port is an error too', async () => {
    const { code, out } = await startDemo([], { PORT: String(port) });
    assert.equal(code, 1, out);
    assert.match(out, new RegExp(`port ${port} `));
  });

  it('the page server falls back to a free port only when told to (the default port)', async () => {
    await assert.rejects(startPageServer({ entry: probeEntry, staticDir: root, port }), { code: 'EADDRINUSE' });
    const logs: string[] = [];
    const server = await startPageServer({ entry: probeEntry, staticDir: root, port, fallbackToFreePort: true,
      onLog: (m) => logs.push(m) });
    try {
      assert.notEqual(new URL(server.url).port, String(port));
      assert.ok(logs.includes(`port ${port} is taken; using a free one`), logs.join('\n'));
    } finally {
      await server.close();
    }
  });
});

describe('demo server requests', () => {
  it('a malformed URL escape is a 400, and the server goes on serving (it ended the process before)', async () => {
    const server = await startPageServer({ entry: probeEntry, staticDir: root });
    try {
      assert.equal((await fetch(`${server.url}%E0%A4%A`)).status, 400);
      assert.equal((await fetch(`${server.url}..%2F..%2Fetc%2Fpasswd`)).status, 404, 'no way out of the served folder');
      assert.equal((await fetch(`${server.url}package.json`)).status, 200);
    } finally {
      await server.close();
    }
  });
});

describe('demo server address', () => {
  it('an IPv6 host (--host ::1) gives a URL that opens (bracketed), not http://::1:N/', async () => {
    const server = await startPageServer({ entry: probeEntry, staticDir: root, host: '::1' });
    try {
      assert.match(server.url, /^http:\/\/\[::1\]:\d+\/$/);
      assert.equal((await fetch(`${server.url}package.json`)).status, 200);
    } finally {
      await server.close();
    }
  });
});

describe('demo server arguments', () => {
  for (const [args, message] of [
    [['--port', 'abc'], /the port must be an integer 0-65535, got "abc"/],
    [['--port=70000'], /the port must be an integer 0-65535, got "70000"/],
    [['--prot', '8095'], /Unknown option '--prot'/],
  ] as const) {
    it(`${args.join(' ')}: a usage error (exit 2) naming it, before bundling`, async () => {
      const { code, out } = await startDemo([...args]);
      assert.equal(code, 2, out);
      assert.match(out, message);
      assert.match(out, /usage: npm start/);
      assert.doesNotMatch(out, /bundling|demo: http/);
    });
  }

  it('--port=N is the same as --port N (a taken one is refused by number)', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const { code, out } = await startDemo([`--port=${port}`]);
      assert.equal(code, 1, out);
      assert.match(out, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });
});
