/**
 * `npx tsx bench/webgl/mrt_probe.ts [--mkn 784x192x768] [--reps 5] [--samples 5]`: raw WebGL 2 matmul
 * variants (single target vs multiple render targets) on this machine's SwiftShader; see mrt_probe_page.ts.
 * `--variants PxQ[a|b|t],...`: P pixel pairs x Q channel pairs per fragment; suffix a = A read from a 2D-array
 * texture, b = single output with A chosen from two textures by a per-fragment branch, t = single output
 * reading A transposed and B untransposed (neighbouring texels across a 2x2 quad) (b, t: 1x1 only).
 */
import { fileURLToPath } from 'node:url';
import { parseCommandLine } from '../support/args.js';
import { MRT_PROBE_COMMAND } from '../support/bench_args.js';
import type { ProbeArgs } from './mrt_probe_page.js';

// The command line is checked (--help, unknown options, bad variants: exit) before Chromium starts.
const args: ProbeArgs = parseCommandLine(MRT_PROBE_COMMAND);
const { runInHeadlessChromium } = await import('../support/headless_page.js');
const result = await runInHeadlessChromium({ entry: fileURLToPath(new URL('./mrt_probe_page.ts', import.meta.url)),
  args, exposeCpuTime: true, timeoutMs: 1_800_000 });
console.log(JSON.stringify(result, null, 1));
