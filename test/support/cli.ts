/** Running the `tfjs-block-fusion` command in tests: as a child process (the real entry point) or in-process. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export interface CliResult { code: number; stdout: string; stderr: string }

const repo = new URL('../..', import.meta.url).pathname;

/** `tfjs-block-fusion ...args` in a child process, from the sources (tsx), in the repository root; `env` added. */
export function spawnCli(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), ...args],
    { encoding: 'utf8', cwd: repo, env: { ...process.env, XDG_RUNTIME_DIR: '/tmp', ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A command's `run` in this process (fast), with what it logs captured instead of printed. */
export async function runCaptured(run: () => Promise<number>): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => { out.push(a.join(' ')); };
  console.error = (...a: unknown[]) => { err.push(a.join(' ')); };
  try {
    const code = await run();
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}
