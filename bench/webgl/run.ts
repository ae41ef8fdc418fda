/**
 * `npm run bench:webgl [-- --shapes 56x96,28x192,14x384,7x768] [--kinds convnext,convfirst] [--chain 3]
 * [--samples 5] [--expand 2x4] [--project 1x1,2x4] [--passes] [--json FILE]`: stock vs fused blocks on WebGL
 * in headless Chromium (SwiftShader here), one table, N = 1, shapes given as HxC (W = H, hidden = 4C).
 * `--expand` x `--project` add fused variants with the expand and project passes forced to fragment shapes
 * PxQ (P pixel-pair row halves x Q channel pairs = P * Q render targets; 1x1 = the single-output pass; a
 * multi-target project pass also blits its parts into the output), timed in the same interleaved loop;
 * `--passes` also times each pass alone.
 */
import { cpus, hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseCommandLine } from '../support/args.js';
import { writeJsonFile } from '../support/json_output.js';
import { WEBGL_COMMAND } from '../support/bench_args.js';
import type { BenchArgs, BenchRow } from './page.js';

// The command line is checked (--help, unknown options, bad shapes: exit) before Chromium starts.
const { jsonFile, ...pageArgs } = parseCommandLine(WEBGL_COMMAND);
const args: BenchArgs = pageArgs;
const { runInHeadlessChromium } = await import('../support/headless_page.js');

const result = await runInHeadlessChromium<{ renderer: string; webglVersion: number; userAgent: string;
  rows: BenchRow[] }>({ entry: fileURLToPath(new URL('./page.ts', import.meta.url)), args, timeoutMs: 3_600_000, exposeCpuTime: true,
  onConsole: (line) => { if (!line.includes('404')) process.stderr.write(`[page] ${line}\n`); } });

const machine = `${hostname()}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`;
console.log(`WebGL fused blocks vs stock TF.js, ${new Date().toISOString()}`);
console.log(`machine: ${machine}; renderer: ${result.renderer} (WebGL ${result.webglVersion})`);
console.log(`median of ${args.samples} interleaved samples of ${args.chain} chained blocks, N = 1; per block: ` +
  'wall ms, and browser CPU ms (all Chromium processes, SwiftShader included)');
console.log('floor = the two 1x1 layers alone with tfjs\'s packed matMul (same fetches per multiply-add as any ' +
  '4-output fragment)');
console.log('| block | shape (HxWxC, D) | stock wall ms | fused wall ms | wall speedup | stock CPU ms | fused CPU ms | ' +
  'CPU speedup | floor CPU ms | stock / floor | draws stock | draws + blits fused |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of result.rows) {
  console.log(`| ${r.kind} | ${r.h}x${r.w}x${r.c}, ${r.d} | ${r.stockMs.toFixed(1)} | ${r.fusedMs.toFixed(1)} | ` +
    `${r.speedup.toFixed(2)}x | ${r.stockCpuMs.toFixed(0)} | ${r.fusedCpuMs.toFixed(0)} | ${r.cpuSpeedup.toFixed(2)}x | ` +
    `${r.matmulFloorCpuMs.toFixed(0)} | ${(r.stockCpuMs / r.matmulFloorCpuMs).toFixed(2)}x | ${r.stockDraws} | ` +
    `${r.fusedDraws} + ${r.fusedBlits} |`);
}
const variantNames = args.expand.flatMap((e) => args.project.map((p) => `${e}/${p}`));
if (variantNames.length > 0) {
  console.log('');
  console.log('fused variants by fragment, expand PxQ / project PxQ (P row halves x Q channel pairs; browser CPU ms ' +
    'per block, speedup = stock CPU / variant CPU, draws + blits per block)');
  console.log(`| block | shape (HxWxC, D) | stock CPU ms | ${variantNames.map((e) => `${e} CPU ms | ${e} speedup | ${e} draws + blits`).join(' | ')} |`);
  console.log(`| --- | --- | ---: | ${variantNames.map(() => '---: | ---: | ---:').join(' | ')} |`);
  for (const r of result.rows) {
    console.log(`| ${r.kind} | ${r.h}x${r.w}x${r.c}, ${r.d} | ${r.stockCpuMs.toFixed(0)} | ` +
      `${r.variants.map((v) => `${v.cpuMs.toFixed(0)} | ${(r.stockCpuMs / v.cpuMs).toFixed(2)}x | ${v.draws} + ${v.blits}`).join(' | ')} |`);
  }
}
if (args.passes) {
  console.log('');
  console.log('each pass alone (browser CPU ms / wall ms per run)');
  console.log('| block | shape | pass | expand | project | CPU ms | wall ms |');
  console.log('| --- | --- | --- | ---: | ---: | ---: | ---: |');
  for (const r of result.rows) {
    for (const p of r.passRows) {
      console.log(`| ${r.kind} | ${r.h}x${r.w}x${r.c} | ${p.pass} | ${p.expand} | ${p.project} | ` +
        `${p.cpuMs.toFixed(0)} | ${p.wallMs.toFixed(1)} |`);
    }
  }
}
if (jsonFile) {
  writeJsonFile(jsonFile, { date: new Date().toISOString(), machine, args, ...result }, 2);
  console.log(`wrote ${jsonFile}`);
}
