/**
 * Interleaved measurement rounds (round 1: every model, round 2: every model, ...), each announced: a bench:models
 * batch measures every configuration before it prints a row, minutes on a GPU with many --configs and several on
 * SwiftShader's smoke run, which passed without a line of output.
 */
export async function interleavedRounds(count: number, rounds: number, what: string, progress: (line: string) => void,
  work: (item: number, round: number) => Promise<void>): Promise<void> {
  for (let r = 0; r < rounds; r++) {
    progress(`${what}, round ${r + 1}/${rounds} (${count} model${count === 1 ? '' : 's'})`);
    for (let i = 0; i < count; i++) await work(i, r);
  }
}
