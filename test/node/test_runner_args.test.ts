/** scripts/test.mjs (`npm test`): a misspelt stage is refused, not run as nothing and reported clean. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

const root = new URL('../..', import.meta.url).pathname;

describe('npm test stages', () => {
  it('an unknown stage exits 2 naming it and the stages there are', () => {
    const r = spawnSync(process.execPath, ['scripts/test.mjs', 'nodes'], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /unknown stage\(s\) nodes: choose from typecheck, build, node, karma, smoke/);
    assert.doesNotMatch(r.stdout, /passed/);
  });
});
