/**
 * Prints the docs/models.md table: for every variant, ConvNeXt and ConvFirstNet depths, widths, parameters
 * and FLOPs at 224x224, batch 1. Parameters are the built graph's weights (countGraphParams); FLOPs come
 * from src/analysis countModelCost on the built GraphModel (one profiled inference; multiply-add = 2 FLOPs;
 * fused ops count the layers they replace).
 *
 *   node --import tsx bench/models_table.ts [--backend cpu|wasm] [--size 224]
 *
 * Slow on the pure-JS cpu backend (about a minute for the base models); wasm is the default.
 */
import { parseCommandLine } from './support/args.js';
import { MODELS_TABLE_COMMAND } from './support/bench_args.js';

// The command line is checked (--help, unknown options, bad values: exit) before tfjs loads.
const { backend, size } = parseCommandLine(MODELS_TABLE_COMMAND);
const tf = await import('@tensorflow/tfjs-core');
await import('@tensorflow/tfjs-backend-cpu');
await import('@tensorflow/tfjs-backend-wasm');
const { loadGraphModel } = await import('@tensorflow/tfjs-converter');
await import('../src/index.js');
const { countModelCost } = await import('../src/analysis/cost_model.js');
const { toModelArtifacts } = await import('../src/converter/graphmodel_writer.js');
const { buildModel, MODEL_FAMILIES, STAGES, VARIANTS } = await import('../models/index.js');
if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} failed to start`);

const cells = new Map<string, { params: number; flops: number }>();
for (const variant of VARIANTS) {
  for (const family of MODEL_FAMILIES) {
    const t0 = performance.now();
    // Fused graphs: one node per block, so the count runs fewer (reference-composition) kernels.
    const built = buildModel(family, variant, { fused: true, inputSize: size, weights: 'zeros' });
    const model = await loadGraphModel(tf.io.fromMemory(toModelArtifacts(built.files)));
    const cost = await countModelCost(model, [1, size, size, 3]);
    // The graph count leaves out rank-0 op constants (LayerNorm epsilons); countParams counts them.
    if (cost.params !== built.params) {
      console.error(`${family}-${variant}: cost model counts ${cost.params} parameters, the graph's weights ${built.params}`);
    }
    for (const w of cost.warnings) console.error(`${family}-${variant}: ${w}`);
    cells.set(`${family}-${variant}`, { params: built.params, flops: cost.flops });
    model.dispose();
    console.error(`${family}-${variant}: ${cost.params} params, ${cost.flops} FLOPs ` +
      `(${((performance.now() - t0) / 1e3).toFixed(1)} s)`);
  }
}

const m = (v: number) => (v / 1e6).toFixed(2);
const g = (v: number) => (v / 1e9).toFixed(2);
console.log(`| variant | depths | widths | ConvNeXt params (M) | ConvFirstNet params (M) | ConvNeXt GFLOPs | ConvFirstNet GFLOPs |`);
console.log('|---|---|---|---:|---:|---:|---:|');
for (const variant of VARIANTS) {
  const a = cells.get(`convnext-${variant}`)!;
  const b = cells.get(`convfirst-${variant}`)!;
  const { depths, widths } = STAGES[variant];
  console.log(`| ${variant} | ${depths.join(', ')} | ${widths.join(', ')} | ${m(a.params)} | ${m(b.params)} | ` +
    `${g(a.flops)} | ${g(b.flops)} |`);
}
