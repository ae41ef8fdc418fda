/**
 * `npx tsx bench/webgl/mrt_probe.ts [--mkn 784x192x768] [--reps 5] [--samples 5]`: raw WebGL 2 matmul
 * variants (single target vs multiple render targets) on this machine's SwiftShader; see mrt_probe_page.ts.
 * `--variants PxQ[a|b],...`: P pixel pairs x Q channel pairs per fragment; suffix a = A read from a 2D-array
 * texture, b = single output with A chosen from two textures by a per-fragment branch, t = single output
 * reading A transposed and B untransposed (neighbouring texels across a 2x2 quad) (b, t: 1x1 only).
 */
import { fileURLToPath } from 'node:url';
import { runInHeadlessChromium } from '../support/headless_page.js';
import type { ProbeArgs } from './mrt_probe_page.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const [m, k, n] = option('mkn', '784x192x768').split('x').map(Number);
const variants = option('variants', '1x1,1x4,2x2,1x8,2x4,4x2,1x1a').split(',').map((s) => {
  const [p, qb] = s.replace(/[abt]$/, '').split('x').map(Number);
  return { p, qb, arrayInput: s.endsWith('a'), branch: s.endsWith('b'), transposed: s.endsWith('t') };
});
const args: ProbeArgs = { m, k, n, variants, reps: Number(option('reps', '5')), samples: Number(option('samples', '5')) };
const result = await runInHeadlessChromium({ entry: fileURLToPath(new URL('./mrt_probe_page.ts', import.meta.url)),
  args, exposeCpuTime: true, timeoutMs: 1_800_000 });
console.log(JSON.stringify(result, null, 1));
