/**
 * bench:models' interleaved rounds (bench/support/rounds.ts): every model once per round, in order, and a progress
 * line per round (a batch printed nothing until every configuration was measured).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { interleavedRounds } from '../../bench/support/rounds.js';

describe('bench:models: interleavedRounds', () => {
  it('round by round over every model, each round announced before its work', async () => {
    const log: string[] = [];
    await interleavedRounds(3, 2, 'GPU time', (line) => log.push(line), async (i, r) => { log.push(`r${r} m${i}`); });
    assert.deepEqual(log, ['GPU time, round 1/2 (3 models)', 'r0 m0', 'r0 m1', 'r0 m2',
      'GPU time, round 2/2 (3 models)', 'r1 m0', 'r1 m1', 'r1 m2']);
  });
  it('one model', async () => {
    const log: string[] = [];
    await interleavedRounds(1, 1, 'wall time', (line) => log.push(line), async () => {});
    assert.deepEqual(log, ['wall time, round 1/1 (1 model)']);
  });
});
