/**
 * Summarizes V8 .cpuprofile files (as written by `bench:models --cpu-profile DIR`): self time by package
 * (tfjs-core, tfjs-converter, tfjs-backend-webgpu, this package, native / idle) and the top functions, so a
 * wall-time breakdown can be read without DevTools.
 *
 *   node --import tsx bench/profile_summary.ts FILE.cpuprofile... [--top 25]
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseCommandLine } from './support/args.js';
import { PROFILE_SUMMARY_COMMAND } from './support/bench_args.js';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

// The command line is checked (--help, unknown options, no files: exit) first.
const { files, top } = parseCommandLine(PROFILE_SUMMARY_COMMAND);

/** Which package a script URL belongs to; bundles (device runs) are attributed by function name only. */
function packageOf(url: string, fn: string): string {
  if (url === '') return fn.startsWith('(') ? fn : 'native';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (/\/(src|ops|models)\//.test(url)) return 'tfjs-block-fusion';
  if (url.startsWith('node:')) return 'node';
  return basename(url);
}

/** The profile in `file`; exits 1 naming the file when it is not one (a stack trace said only where it broke). */
function readProfile(file: string): Profile {
  let p: Partial<Profile> | null = null;
  try { p = JSON.parse(readFileSync(file, 'utf8')) as Partial<Profile>; } catch { /* reported below */ }
  if (p == null || !Array.isArray(p.nodes) || !Array.isArray(p.samples) || !Array.isArray(p.timeDeltas)) {
    console.error(`bench/profile_summary.ts: ${file} is not a V8 CPU profile (.cpuprofile JSON with nodes, samples, timeDeltas)`);
    process.exit(1);
  }
  return p as Profile;
}

for (const file of files) {
  const p = readProfile(file);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const pkg = packageOf(url, functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
    const key = `${functionName || '(anonymous)'} ${pkg}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  const pct = (us: number) => `${(100 * us / total).toFixed(1).padStart(5)}%`;
  console.log(`\n${basename(file)}: ${(total / 1000).toFixed(1)} ms sampled`);
  for (const [pkg, us] of [...byPackage].sort((a, b) => b[1] - a[1])) console.log(`  ${pct(us)}  ${pkg}`);
  console.log('  top functions (self time):');
  for (const [fn, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${pct(us)} ${(us / 1000).toFixed(2).padStart(8)} ms  ${fn}`);
  }
}
