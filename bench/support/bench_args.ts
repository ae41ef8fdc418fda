/**
 * The command line of every bench/ entry script: its options (the usage text is generated from them) and the
 * settings they give, defaults filled in. A script calls `parseCommandLine(ITS_COMMAND)` first thing, so that
 * --help, an unknown option or a bad value ends it before any backend or device work; tests call
 * `parseBenchArgs(ITS_COMMAND, argv)` (or the parseXArgs wrappers) without running the script.
 * Plain data and string checks (and --json's look at the file system) only: importing this loads no backend.
 */
import { existsSync } from 'node:fs';
import { VARIANTS } from '../../models/variants.js';
import { DAWN_TOGGLE_NAME } from '../../src/node/webgpu_setup.js';
import { type ArgsSpec, type BenchCommand, ArgsError, type FlagSpec, listOf, parseBenchArgs, positiveInteger, positiveIntegerList }
  from './args.js';
import { folderWriteProblem } from '../../src/cli/output_path.js';
import { outputFileProblem } from './json_output.js';
import { ALL_CONFIGS } from './model_configs.js';
import { SWEEP_VARIANT_NAMES } from './sweep_variants.js';

/** --json FILE, checked before the run so that the results are not lost to a bad path at its end. */
const jsonFlag = (what: string): FlagSpec => ({ name: '--json', value: 'FILE', check: outputFileProblem,
  help: `write ${what} to FILE as JSON (its folder is created)` });

/** A multiple of 32 (the models' total stride), at least 32. */
const modelInputSize = (v: string): string | null =>
  (/^[1-9]\d*$/.test(v) && Number(v) % 32 === 0 ? null : 'expected a positive multiple of 32');

// ---------------------------------------------------------------------------------------------------------------
// bench/gpu.ts (npm run bench)

export interface GpuArgs {
  smoke: boolean; sweep: boolean; splitMode: boolean;
  sweepOps: ('convnext' | 'convfirst')[];
  /** --sweep-only as given (comma-separated variant names), or undefined. */
  sweepOnly: string | undefined;
  sweepBatch: number | null;
  jsonFile: string | null;
}

const GPU_SPEC: ArgsSpec = {
  usage: ['npm run bench -- [--json FILE] [--smoke] [--split]',
    'npm run bench -- --sweep [--sweep-ops LIST] [--sweep-only LIST] [--sweep-batch N] [--json FILE] [--smoke]',
    '(tsx bench/gpu.ts ...; on a GPU machine: bash .device/run.sh ..., README "Benchmarks on a real GPU")'],
  about: 'Fused WebGPU block kernels vs the stock TF.js op composition, side by side in one run, in Node on Dawn\n' +
    "(the `webgpu` package); also measures the device's WGSL FMA peak and copy bandwidth. Stock and fused are\n" +
    'measured in 3 interleaved rounds per shape (1 with --smoke); gpuMs is the best round.',
  flags: [
    jsonFlag('the peaks and rows (with --sweep: the sweep rows)'),
    { name: '--smoke', help: 'small shapes and few iterations (SwiftShader on a CPU-only machine; not a timing)' },
    { name: '--split', help: 'where the plan picks the split-hidden variant, also time the one-dispatch kernel\n' +
      "(impl 'fused-plain') and forced slice counts (JSON splitSweep); skips the per-phase kernels" },
    { name: '--sweep', help: 'instead of the table: tiling variants and partial kernels (tuning), best and median\n' +
      'of interleaved rounds, at N=32 (all variants) and N=1 (default, one-dispatch, gemm-mlp)' },
    { name: '--sweep-ops', value: 'LIST', keys: ['convnext', 'convfirst'], requires: '--sweep',
      help: 'block kinds to sweep: convnext, convfirst (default both)' },
    { name: '--sweep-only', value: 'LIST', keys: SWEEP_VARIANT_NAMES, requires: '--sweep',
      help: 'only these variants at N=32 (names in bench/support/sweep_variants.ts, comma-separated)' },
    { name: '--sweep-batch', value: 'N', check: positiveInteger, requires: '--sweep',
      help: 'the --sweep-only variants (or all) at batch N only' },
  ],
};

export const GPU_COMMAND: BenchCommand<GpuArgs> = {
  script: 'bench/gpu.ts',
  spec: GPU_SPEC,
  interpret: (p) => {
    if (p.switches.has('--split') && p.switches.has('--sweep')) {
      throw new ArgsError('--split has no effect with --sweep (a sweep runs instead of the table); give one');
    }
    const sweepBatch = p.values.get('--sweep-batch');
    return {
      smoke: p.switches.has('--smoke'),
      sweep: p.switches.has('--sweep'),
      splitMode: p.switches.has('--split'),
      sweepOps: (p.values.get('--sweep-ops') ?? 'convnext,convfirst').split(',') as ('convnext' | 'convfirst')[],
      sweepOnly: p.values.get('--sweep-only'),
      sweepBatch: sweepBatch != null ? Number(sweepBatch) : null,
      jsonFile: p.values.get('--json') ?? null,
    };
  },
};

export const parseGpuArgs = (argv: readonly string[]) => parseBenchArgs(GPU_COMMAND, argv);

// ---------------------------------------------------------------------------------------------------------------
// bench/models.ts (npm run bench:models)

export interface ModelsArgs {
  smoke: boolean;
  jsonFile: string | null;
  profileDir: string | null;
  /** --configs keys (stock among them), or null for all. */
  configKeys: string[] | null;
  dispatches: boolean;
  /** Extra Dawn toggles for the whole run (--dawn-enable / --dawn-disable). */
  dawnToggles: { enable: string[]; disable: string[] };
}

const CONFIG_KEYS = ALL_CONFIGS.map((c) => c.key);
const keyWidth = Math.max(...CONFIG_KEYS.map((k) => k.length)) + 2;

const MODELS_SPEC: ArgsSpec = {
  usage: ['npm run bench:models -- [--json FILE] [--cpu-profile DIR] [--dispatches] [--smoke] [--configs stock,fused,...]',
    '    [--dawn-enable LIST] [--dawn-disable LIST]',
    '(node --import tsx bench/models.ts ...; on a GPU machine: bash .device/run.sh ...)'],
  about: 'Whole-model inference on WebGPU in Node through Dawn: ConvNeXt-T stock ops, ConvNeXt-T fused, ConvFirstNet-T\n' +
    'fused (and the A/B configurations below), 224x224, batch 1 and 32, GraphModels loaded with tf.loadGraphModel;\n' +
    'the models of a batch measured in 3 interleaved rounds (docs/models.md "Model benchmark").',
  flags: [
    jsonFlag('the run (peaks, repeats, rows)'),
    { name: '--cpu-profile', value: 'DIR', check: folderWriteProblem, help: "a V8 CPU profile of each model's first-round wall loop,\n" +
      'DIR/KEY-nN.cpuprofile (bench/profile_summary.ts summarizes them)' },
    { name: '--dispatches', help: "also every model's GPU ms per dispatch with its shader key (printed, and in the JSON)" },
    { name: '--smoke', help: 'the atto variant at 32x32, batch 1 and 2, one repeat (a functional check on\n' +
      'SwiftShader on a CPU-only machine; not a timing)' },
    { name: '--configs', value: 'LIST', keys: CONFIG_KEYS,
      help: 'only these configurations: comma-separated keys (listed below), stock (the baseline)\n' +
        'among them; default all' },
    { name: '--dawn-enable', value: 'LIST', check: listOf(DAWN_TOGGLE_NAME, 'Dawn toggle names'),
      help: "extra Dawn toggles on for the whole run (e.g. disable_robustness): an A/B between runs\n" +
        'of one device call, since Dawn is set up once per process' },
    { name: '--dawn-disable', value: 'LIST', check: listOf(DAWN_TOGGLE_NAME, 'Dawn toggle names'),
      help: 'extra Dawn toggles off for the whole run' },
  ],
  notes: `configurations (--configs keys; they run in this order):\n` +
    ALL_CONFIGS.map((c) => `  ${c.key.padEnd(keyWidth)}${c.label}`).join('\n'),
};

export const MODELS_COMMAND: BenchCommand<ModelsArgs> = {
  script: 'bench/models.ts',
  spec: MODELS_SPEC,
  interpret: (p) => {
    const configs = p.values.get('--configs');
    const configKeys = configs != null ? configs.split(',') : null;
    if (configKeys != null && !configKeys.includes('stock')) {
      throw new ArgsError(`--configs must include stock (the baseline, run first); got '${configs}'`);
    }
    return {
      smoke: p.switches.has('--smoke'),
      jsonFile: p.values.get('--json') ?? null,
      profileDir: p.values.get('--cpu-profile') ?? null,
      configKeys,
      dispatches: p.switches.has('--dispatches'),
      dawnToggles: { enable: p.values.get('--dawn-enable')?.split(',') ?? [],
        disable: p.values.get('--dawn-disable')?.split(',') ?? [] },
    };
  },
};

export const parseModelsArgs = (argv: readonly string[]) => parseBenchArgs(MODELS_COMMAND, argv);

// ---------------------------------------------------------------------------------------------------------------
// bench/patch_conv.ts (npm run bench:patch-conv)

export interface PatchConvArgs {
  smoke: boolean; sweep: boolean; splitK: boolean; jsonFile: string | null;
  /** The number lists, or null when not given (the script's defaults depend on --smoke). */
  batches: number[] | null; splits: number[] | null; gemmSplits: number[] | null;
  /** --gemm-tiles items, 'BMxBNxTMxTN4'. */
  gemmTiles: string[] | null;
  /** --sweep: the batch its forced tilings run at, the largest of --batches (or of the defaults); else null. */
  sweepBatch: number | null;
  rounds: number | null;
  shapes: string[] | null;
}

const PATCH_SHAPES = ['stem', 'down1', 'down2', 'down3'];
/** The batch sizes without --batches. */
export const PATCH_CONV_DEFAULT_BATCHES = (smoke: boolean): number[] => (smoke ? [1, 2] : [1, 32]);
const SMOKE_PATCH_SHAPES = ['stem', 'down1', 'down3'];

const PATCH_CONV_SPEC: ArgsSpec = {
  usage: ['npm run bench:patch-conv -- [--json FILE] [--smoke] [--sweep] [--batches 1,32]',
    'npm run bench:patch-conv -- --splitk [--splits 1,2,4,8,16] [--gemm-splits 1,2,3,4] [--rounds 3] [--batches 1,32]',
    '    [--shapes stem,down1,...] [--gemm-tiles 32x96x4x3,64x128x8x2,...] [--json FILE] [--smoke]',
    '(tsx bench/patch_conv.ts ...; on a GPU machine: bash .device/run.sh ...)'],
  about: 'FusedPatchConv vs stock TF.js (conv2d + bias add, and the LayerNorm before the downsample convs as stock ops\n' +
    "or as FusedLayerNorm) at ConvNeXt-T's four patch conv shapes, side by side in one run, in Node on Dawn: GPU\n" +
    'time, wall time, dispatches and the floors.',
  flags: [
    jsonFlag('the peaks, rows and sweep rows'),
    { name: '--smoke', help: 'small shapes (stem, down1, down3) and few iterations (SwiftShader; not a timing)' },
    { name: '--sweep', help: 'also time forced tilings of the fused kernel at the largest N (the table only)' },
    { name: '--splitk', help: 'instead of the table: the split-K comparison (stock, fused with the rule, the\n' +
      'direct kernel and the GEMM path with forced S), in --rounds interleaved rounds' },
    { name: '--batches', value: 'LIST', check: positiveIntegerList, help: 'batch sizes (default 1,32; --smoke 1,2)' },
    { name: '--splits', value: 'LIST', check: positiveIntegerList, requires: '--splitk',
      help: 'forced split-K S of the direct kernel (default 1,2,4,8,16; --smoke 1,2,4)' },
    { name: '--gemm-splits', value: 'LIST', check: positiveIntegerList, requires: '--splitk',
      help: 'forced S on the GEMM path (default 1,2,3,4; --smoke 1,2)' },
    { name: '--gemm-tiles', value: 'LIST', requires: '--splitk',
      check: listOf(/^[1-9]\d*x[1-9]\d*x[1-9]\d*x[1-9]\d*$/, 'tiles BMxBNxTMxTN4 (e.g. 32x96x4x3)'),
      help: "tiles BMxBNxTMxTN4 forced on the GEMM path (bk 16, the rule's splits); default none" },
    { name: '--rounds', value: 'N', check: positiveInteger, requires: '--splitk', help: 'interleaved rounds (default 3)' },
    { name: '--shapes', value: 'LIST', keys: PATCH_SHAPES, requires: '--splitk',
      help: 'only these shapes: stem, down1, down2, down3 (--smoke: no down2); default all' },
  ],
};

export const PATCH_CONV_COMMAND: BenchCommand<PatchConvArgs> = {
  script: 'bench/patch_conv.ts',
  spec: PATCH_CONV_SPEC,
  interpret: (p) => {
    const smoke = p.switches.has('--smoke');
    if (p.switches.has('--sweep') && p.switches.has('--splitk')) {
      throw new ArgsError('--sweep has no effect with --splitk (the split-K comparison runs instead of the table); give one');
    }
    const numbers = (name: string) => p.values.get(name)?.split(',').map(Number) ?? null;
    const shapes = p.values.get('--shapes')?.split(',') ?? null;
    const missing = smoke ? (shapes ?? []).filter((s) => !SMOKE_PATCH_SHAPES.includes(s)) : [];
    if (missing.length > 0) {
      throw new ArgsError(`--shapes ${missing.join(', ')}: not among the --smoke shapes (${SMOKE_PATCH_SHAPES.join(', ')})`);
    }
    const rounds = p.values.get('--rounds');
    const batches = numbers('--batches');
    const sweep = p.switches.has('--sweep');
    return {
      smoke, sweep, splitK: p.switches.has('--splitk'), jsonFile: p.values.get('--json') ?? null,
      batches, splits: numbers('--splits'), gemmSplits: numbers('--gemm-splits'),
      gemmTiles: p.values.get('--gemm-tiles')?.split(',') ?? null,
      // The largest, not the last listed: --batches 32,1 swept at N=1.
      sweepBatch: sweep ? Math.max(...(batches ?? PATCH_CONV_DEFAULT_BATCHES(smoke))) : null,
      rounds: rounds != null ? Number(rounds) : null,
      shapes,
    };
  },
};

export const parsePatchConvArgs = (argv: readonly string[]) => parseBenchArgs(PATCH_CONV_COMMAND, argv);

// ---------------------------------------------------------------------------------------------------------------
// bench/gemm_probe.ts (npm run bench:gemm-probe)

export interface GemmProbeArgs { smoke: boolean; jsonFile: string | null }

export const GEMM_PROBE_COMMAND: BenchCommand<GemmProbeArgs> = {
  script: 'bench/gemm_probe.ts',
  spec: {
    usage: ['npm run bench:gemm-probe -- [--smoke] [--json FILE]',
      '(node --import tsx bench/gemm_probe.ts ...; on a GPU machine: bash .device/run.sh ...)'],
    about: "Probe: a plain register-tiled WGSL SGEMM on the wide blocks' 1x1 layers at N=32, for several tile\n" +
      'configurations, each checked against a CPU float64 product on sampled entries before it is timed.',
    flags: [
      { name: '--smoke', help: 'one small shape and few repeats (SwiftShader; not a timing)' },
      jsonFlag('the peaks and rows'),
    ],
  },
  interpret: (p) => ({ smoke: p.switches.has('--smoke'), jsonFile: p.values.get('--json') ?? null }),
};

export const parseGemmProbeArgs = (argv: readonly string[]) => parseBenchArgs(GEMM_PROBE_COMMAND, argv);

// ---------------------------------------------------------------------------------------------------------------
// bench/dwconv_probe.ts (npm run bench:dwconv-probe)

export const DWCONV_PROBE_COMMAND: BenchCommand<GemmProbeArgs> = {
  script: 'bench/dwconv_probe.ts',
  spec: {
    usage: ['npm run bench:dwconv-probe -- [--smoke] [--json FILE]',
      '(node --import tsx bench/dwconv_probe.ts ...; on a GPU machine: bash .device/run.sh ...)'],
    about: "Probe: ConvNeXt's 7x7 depthwise conv alone at N=32 in three workgroup layouts (flat pixel strips, 2-D\n" +
      'pixel blocks, 2-D blocks with the input halo staged in workgroup memory), each checked against a CPU float64\n' +
      'conv on sampled outputs (poisoned first) before it is timed.',
    flags: [
      { name: '--smoke', help: 'one small shape and few repeats (SwiftShader; not a timing)' },
      jsonFlag('the peaks and rows'),
    ],
  },
  interpret: (p) => ({ smoke: p.switches.has('--smoke'), jsonFile: p.values.get('--json') ?? null }),
};

// ---------------------------------------------------------------------------------------------------------------
// bench/analyze_models.ts (npm run analyze:models)

export interface AnalyzeModelsArgs { smoke: boolean; variant: string; inputSize: number; batch: number; out: string }

export const ANALYZE_MODELS_COMMAND: BenchCommand<AnalyzeModelsArgs> = {
  script: 'bench/analyze_models.ts',
  spec: {
    usage: ['npm run analyze:models -- [--variant tiny] [--input-size 224] [--batch 1] [--out DIR] [--smoke]',
      '(node --import tsx bench/analyze_models.ts ...; on a GPU machine: bash DIR/run.sh ...)'],
    about: 'The analysis tools on ConvNeXt stock vs ConvNeXt fused vs ConvFirstNet fused, built in memory, profiled\n' +
      "kernel by kernel on WebGPU through Dawn with the device's peaks measured in the same run. Writes\n" +
      'DIR/analysis.json and the three SVG figures (efficiency_gap.svg, waterline.svg, roofline.svg).',
    flags: [
      { name: '--variant', value: 'NAME', choices: VARIANTS,
        help: `model variant (default tiny; --smoke atto): ${VARIANTS.join(', ')}` },
      { name: '--input-size', value: 'N', check: modelInputSize,
        help: 'input height = width, a multiple of 32 (default 224; --smoke 32)' },
      { name: '--batch', value: 'N', check: positiveInteger, help: 'batch size (default 1)' },
      { name: '--out', value: 'DIR', check: folderWriteProblem, help: 'output folder (default bench-output/analysis)' },
      { name: '--smoke', help: 'atto at 32x32 on SwiftShader, fewer repeats (a functional check; not a measurement)' },
    ],
  },
  interpret: (p) => {
    const smoke = p.switches.has('--smoke');
    return {
      smoke,
      variant: p.values.get('--variant') ?? (smoke ? 'atto' : 'tiny'),
      inputSize: Number(p.values.get('--input-size') ?? (smoke ? '32' : '224')),
      batch: Number(p.values.get('--batch') ?? '1'),
      out: p.values.get('--out') ?? 'bench-output/analysis',
    };
  },
};

export const parseAnalyzeModelsArgs = (argv: readonly string[]) => parseBenchArgs(ANALYZE_MODELS_COMMAND, argv);

// ---------------------------------------------------------------------------------------------------------------
// bench/webgl/run.ts (npm run bench:webgl)

export interface WebGLArgs {
  shapes: Array<[number, number]>; kinds: string[]; chain: number; samples: number; expand: string[];
  project: string[]; passes: boolean; jsonFile: string | null;
}

/** A block shape HxC. */
const BLOCK_SHAPE = /^[1-9]\d*x[1-9]\d*$/;
/** A fragment shape PxQ: P row halves, 1 or 2 (the page's parseShape refuses others, after Chromium started). */
const FRAGMENT = /^[12]x[1-9]\d*$/;
/** ConvFirst's group width (bench/webgl/page.ts): its channels must be a multiple of it. */
const CONVFIRST_GROUP_WIDTH = 8;

export const WEBGL_COMMAND: BenchCommand<WebGLArgs> = {
  script: 'bench/webgl/run.ts',
  spec: {
    usage: ['npm run bench:webgl -- [--shapes 56x96,28x192,14x384,7x768] [--kinds convnext,convfirst] [--chain 3]',
      '    [--samples 5] [--expand 2x4] [--project 1x1,2x4] [--passes] [--json FILE]'],
    about: 'Stock vs fused blocks on WebGL in headless Chromium (SwiftShader here), one table, N = 1. Fused variants\n' +
      'with the expand and project passes forced to fragment shapes PxQ (P pixel-pair row halves x Q channel\n' +
      'pairs = P * Q render targets; 1x1 = the single-output pass), timed in the same interleaved loop.',
    flags: [
      { name: '--shapes', value: 'LIST', check: listOf(BLOCK_SHAPE, 'HxC pairs like 56x96'),
        help: 'block shapes HxC (W = H, hidden = 4C; C a multiple of 8 for convfirst);\ndefault 56x96,28x192,14x384,7x768' },
      { name: '--kinds', value: 'LIST', keys: ['convnext', 'convfirst'], help: 'block kinds (default convnext,convfirst)' },
      { name: '--chain', value: 'N', check: positiveInteger, help: 'chained blocks per sample (default 3)' },
      { name: '--samples', value: 'N', check: positiveInteger, help: 'interleaved samples; the median is reported (default 5)' },
      { name: '--expand', value: 'LIST', check: listOf(FRAGMENT, 'fragment shapes PxQ with P 1 or 2', true), allowEmpty: true,
        help: "expand-pass fragment shapes of the fused variants (default 2x4; '' for none)" },
      { name: '--project', value: 'LIST', check: listOf(FRAGMENT, 'fragment shapes PxQ with P 1 or 2', true), allowEmpty: true,
        help: "project-pass fragment shapes, crossed with --expand (default 1x1,2x4; '' for none)" },
      { name: '--passes', help: 'also time each pass alone' },
      jsonFlag('the arguments, renderer and rows'),
    ],
  },
  interpret: (p) => {
    const get = (name: string, fallback: string) => p.values.get(name) ?? fallback;
    const shapes = get('--shapes', '56x96,28x192,14x384,7x768').split(',').map((s) => s.split('x').map(Number) as [number, number]);
    const kinds = get('--kinds', 'convnext,convfirst').split(',');
    const ungrouped = shapes.filter(([, c]) => c % CONVFIRST_GROUP_WIDTH !== 0);
    if (kinds.includes('convfirst') && ungrouped.length > 0) {
      throw new ArgsError(`--shapes ${ungrouped.map(([h, c]) => `${h}x${c}`).join(',')}: convfirst blocks need C a multiple ` +
        `of ${CONVFIRST_GROUP_WIDTH} (their group width); pass --kinds convnext for these`);
    }
    return {
      shapes,
      kinds,
      chain: Number(get('--chain', '3')),
      samples: Number(get('--samples', '5')),
      expand: get('--expand', '2x4').split(',').filter((t) => t !== ''),
      project: get('--project', '1x1,2x4').split(',').filter((t) => t !== ''),
      passes: p.switches.has('--passes'),
      jsonFile: p.values.get('--json') ?? null,
    };
  },
};

export const parseWebGLArgs = (argv: readonly string[]) => parseBenchArgs(WEBGL_COMMAND, argv);

// ---------------------------------------------------------------------------------------------------------------
// bench/webgl/mrt_probe.ts

export interface MrtProbeArgs {
  m: number; k: number; n: number;
  variants: Array<{ p: number; qb: number; arrayInput: boolean; branch: boolean; transposed: boolean }>;
  reps: number; samples: number;
}

export const MRT_PROBE_COMMAND: BenchCommand<MrtProbeArgs> = {
  script: 'bench/webgl/mrt_probe.ts',
  spec: {
    usage: ['npx tsx bench/webgl/mrt_probe.ts [--mkn 784x192x768] [--variants 1x1,1x4,...] [--reps 5] [--samples 5]'],
    about: 'Raw WebGL 2 matmul variants (single target vs multiple render targets) on this machine\'s SwiftShader, in\n' +
      'headless Chromium; prints the result as JSON (bench/webgl/mrt_probe_page.ts).',
    flags: [
      { name: '--mkn', value: 'MxKxN', check: (v) => (/^[1-9]\d*x[1-9]\d*x[1-9]\d*$/.test(v) ? null : 'expected MxKxN'),
        help: 'out[M, N] = A[M, K] B[K, N] (default 784x192x768)' },
      { name: '--variants', value: 'LIST', check: listOf(/^[1-9]\d*x[1-9]\d*[abt]?$/, 'PxQ[a|b|t]'),
        help: 'P pixel pairs x Q channel pairs per fragment; suffix a = A from a 2D-array texture,\n' +
          'b = single output with A chosen by a branch, t = A transposed (b, t: 1x1 only);\n' +
          'default 1x1,1x4,2x2,1x8,2x4,4x2,1x1a' },
      { name: '--reps', value: 'N', check: positiveInteger, help: 'draws per sample (default 5)' },
      { name: '--samples', value: 'N', check: positiveInteger, help: 'samples; the median is reported (default 5)' },
    ],
  },
  interpret: (p) => {
    const get = (name: string, fallback: string) => p.values.get(name) ?? fallback;
    const [m, k, n] = get('--mkn', '784x192x768').split('x').map(Number);
    // The b and t fragments write one target: with PxQ they drew into a 1/(P*Q) viewport and were reported as P*Q targets.
    const multiTarget = get('--variants', '').split(',').filter((v) => /[bt]$/.test(v) && !/^1x1[bt]$/.test(v));
    if (multiTarget.length > 0) throw new ArgsError(`--variants ${multiTarget.join(',')}: b and t are 1x1 only`);
    const variants = get('--variants', '1x1,1x4,2x2,1x8,2x4,4x2,1x1a').split(',').map((s) => {
      const [pp, qb] = s.replace(/[abt]$/, '').split('x').map(Number);
      return { p: pp, qb, arrayInput: s.endsWith('a'), branch: s.endsWith('b'), transposed: s.endsWith('t') };
    });
    return { m, k, n, variants, reps: Number(get('--reps', '5')), samples: Number(get('--samples', '5')) };
  },
};

export const parseMrtProbeArgs = (argv: readonly string[]) => parseBenchArgs(MRT_PROBE_COMMAND, argv);

// ---------------------------------------------------------------------------------------------------------------
// bench/models_table.ts

export interface ModelsTableArgs { backend: 'cpu' | 'wasm'; size: number }

export const MODELS_TABLE_COMMAND: BenchCommand<ModelsTableArgs> = {
  script: 'bench/models_table.ts',
  spec: {
    usage: ['node --import tsx bench/models_table.ts [--backend cpu|wasm] [--size 224]'],
    about: 'Prints the docs/models.md table: for every variant, ConvNeXt and ConvFirstNet depths, widths, parameters\n' +
      'and FLOPs at SIZExSIZE, batch 1 (src/analysis countModelCost on the built GraphModel).',
    flags: [
      { name: '--backend', value: 'NAME', choices: ['cpu', 'wasm'],
        help: 'backend of the counting inference: wasm (default) or cpu (slow: about a minute for base)' },
      { name: '--size', value: 'N', check: modelInputSize, help: 'input height = width, a multiple of 32 (default 224)' },
    ],
  },
  interpret: (p) => ({ backend: (p.values.get('--backend') ?? 'wasm') as 'cpu' | 'wasm',
    size: Number(p.values.get('--size') ?? '224') }),
};

export const parseModelsTableArgs = (argv: readonly string[]) => parseBenchArgs(MODELS_TABLE_COMMAND, argv);

// ---------------------------------------------------------------------------------------------------------------
// bench/profile_summary.ts

export interface ProfileSummaryArgs { files: string[]; top: number }

export const PROFILE_SUMMARY_COMMAND: BenchCommand<ProfileSummaryArgs> = {
  script: 'bench/profile_summary.ts',
  spec: {
    usage: ['node --import tsx bench/profile_summary.ts FILE.cpuprofile... [--top 25]'],
    about: 'Summarizes V8 .cpuprofile files (as written by `bench:models --cpu-profile DIR`): self time by package\n' +
      '(tfjs-core, tfjs-converter, tfjs-backend-webgpu, this package, native / idle) and the top functions.',
    positionals: { name: 'FILE.cpuprofile...', min: 1, help: 'the profiles to summarize, one section each' },
    flags: [{ name: '--top', value: 'N', check: positiveInteger, help: 'functions listed per profile (default 25)' }],
  },
  interpret: (p) => {
    // An unmatched DIR/*.cpuprofile glob reaches the script as the pattern itself.
    const missing = p.positionals.filter((f) => !existsSync(f));
    if (missing.length > 0) throw new ArgsError(`no such file: ${missing.join(', ')}`);
    return { files: p.positionals, top: Number(p.values.get('--top') ?? '25') };
  },
};

export const parseProfileSummaryArgs = (argv: readonly string[]) => parseBenchArgs(PROFILE_SUMMARY_COMMAND, argv);
