/**
 * `npm run analyze:models`: the analysis tools on ConvNeXt stock vs ConvNeXt fused vs ConvFirstNet fused,
 * built in memory (full-size weights never touch the disk), profiled kernel by kernel on WebGPU through Dawn
 * with the device's peaks measured in the same run. Writes DIR/analysis.json and the three SVG figures.
 *
 *   npm run analyze:models -- [--variant tiny] [--input-size 224] [--batch 1] [--out DIR] [--smoke]
 *
 * --smoke: atto at 32x32 on SwiftShader (a functional check on a CPU-only machine, not a measurement).
 * On the GPU machine: ../shared/device/prepare.sh bench/analyze_models.ts DIR; bash DIR/run.sh --out $OUT/a
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analysisOutputFiles } from '../src/analysis/output_files.js';
import { setupNodeWebGPU } from '../src/node/webgpu_setup.js';
import { parseCommandLine } from './support/args.js';
import { ANALYZE_MODELS_COMMAND } from './support/bench_args.js';

// The command line is checked (--help, unknown options, bad values: exit) before any device work.
const { smoke, variant, inputSize, batch, out } = parseCommandLine(ANALYZE_MODELS_COMMAND);

await setupNodeWebGPU({ preferSwiftShader: true });
const tf = await import('@tensorflow/tfjs-core');
const { loadGraphModel } = await import('@tensorflow/tfjs-converter');
await import('../src/index.js');
const { buildModel } = await import('../models/index.js');
const { toModelArtifacts } = await import('../src/converter/graphmodel_writer.js');
const { analyzeModels } = await import('../src/analysis/analyze.js');
const { measureDevicePeaks } = await import('../src/analysis/microbench.js');
const { measureWebGPUPeaks } = await import('../src/analysis/peaks.js');

tf.env().set('WEBGPU_CPU_FORWARD', false);
if (!(await tf.setBackend('webgpu'))) throw new Error('webgpu backend failed to initialise');
await tf.ready();
const device = (tf.backend() as unknown as { device: GPUDevice }).device;
console.error(`measuring device peaks${smoke ? ' (small run)' : ''} ...`);
const peaks = await measureWebGPUPeaks(device, (d) => measureDevicePeaks(d, smoke ?
  { fmaIterations: 256, fmaWorkgroups: 64, copyBytes: 8 << 20, repeats: 2 } : {}));
console.error(`peaks: ${(peaks.flopsPerSecond / 1e12).toFixed(1)} TFLOP/s, ${(peaks.bytesPerSecond / 1e9).toFixed(0)} GB/s`);

const entries = [];
for (const [name, family, fused] of [['ConvNeXt stock ops', 'convnext', false], ['ConvNeXt fused', 'convnext', true],
  ['ConvFirstNet fused', 'convfirst', true]] as const) {
  console.error(`building ${name} (${variant}, ${inputSize}px) ...`);
  const built = buildModel(family, variant, { fused, seed: 1, inputSize });
  const model = await loadGraphModel(tf.io.fromMemory(toModelArtifacts(built.files)));
  entries.push({ name: `${name} (${variant}, N=${batch})`, model, inputShape: [batch, inputSize, inputSize, 3] });
}
const analysis = await analyzeModels(entries, { peaks, warmup: smoke ? 1 : 5, repeats: smoke ? 1 : 5,
  onProgress: (m) => console.error(m) });
mkdirSync(out, { recursive: true });
// The CLI's files: analysis.json names the figures' files (it held their whole text before).
for (const file of analysisOutputFiles(analysis)) writeFileSync(join(out, file.name), file.text);
for (const m of analysis.models) {
  console.log(`${m.name}: ${m.totals.kernels} kernels, ${m.totals.timeMs.toFixed(3)} ms GPU, ` +
    `${(m.totals.flops / 1e9).toFixed(2)} GFLOP, ${m.totals.achievedTflops == null || m.totals.efficiency == null ?
      'no timing' : `${m.totals.achievedTflops.toFixed(2)} TFLOP/s, E = ${(100 * m.totals.efficiency).toFixed(1)}%`}, ` +
    `floor ${m.totals.floorMs.toFixed(3)} ms`);
}
console.log(`wrote ${out}/analysis.json and three SVG figures`);
