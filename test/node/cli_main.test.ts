/** The `tfjs-block-fusion` entry point: usage, help and unknown commands (exit codes and streams). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spawnCli } from '../support/cli.js';

const cli = (...args: string[]) => spawnCli(args);

describe('tfjs-block-fusion entry point', () => {
  it('no arguments: a usage error (exit 2), the usage on stderr only', () => {
    const r = cli();
    assert.equal(r.code, 2);
    assert.match(r.stderr, /usage: tfjs-block-fusion <command>/);
    assert.equal(r.stdout, '');
  });
  it('--help: the usage on stdout, exit 0', () => {
    const r = cli('--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /commands:\n {2}convert .*\n {2}model .*\n {2}analyze /);
  });
  it('--version / -v: the package.json version on stdout, exit 0', async () => {
    const { readFileSync } = await import('node:fs');
    const version = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
    for (const flag of ['--version', '-v']) {
      const r = cli(flag);
      assert.equal(r.code, 0);
      assert.equal(r.stdout.trim(), version);
    }
  });
  it('an unknown command is named, exit 2', () => {
    const r = cli('fuse');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command 'fuse'/);
  });
});
