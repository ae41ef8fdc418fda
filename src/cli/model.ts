/**
 * `tfjs-block-fusion model <convnext|convfirst> <variant> <outdir> [--unfused] [--seed S] [--input-size 224]
 * [--batch N] [--classes K] [--overwrite]`: writes a GraphModel (model.json + weight shards) with seeded random
 * weights. Exit codes: 0 written, 1 failed (nothing written), 2 usage (bad arguments or configuration).
 */
import { resolve } from 'node:path';
import { buildModel, MODEL_FAMILIES, resolveConfig, VARIANTS } from '../../models/index.js';
import { checkOutdir, writeFolderAtomically } from './files.js';
import { emptyArgumentProblem, splitOption, switchValueProblem } from './options.js';

const USAGE = `usage: tfjs-block-fusion model <${MODEL_FAMILIES.join('|')}> <variant> <outdir> [options]

variants: ${VARIANTS.join(', ')}

options:
  --unfused          stock TF.js ops instead of one fused node per residual block (alias: --no-fuse, as in convert)
  --seed S           seed of the random weights, 0 .. 4294967295 (default 0; same seed = same weights fused or unfused)
  --input-size P     input height = width, a multiple of 32 (default 224)
  --batch N          fixed batch size (default: dynamic)
  --classes K        classes of the linear head (default 1000)
  --overwrite        replace an earlier output in <outdir> (a folder holding a model.json)
  -h, --help         this text`;

interface Parsed { positional: string[]; unfused: boolean; overwrite: boolean; seed?: number; inputSize?: number;
  batch?: number; classes?: number }

function intOption(name: string, value: string | undefined): number {
  if (value == null || !/^-?\d+$/.test(value)) throw new Error(`${name} needs an integer, got ${value ?? 'nothing'}`);
  const n = Number(value);
  // Past 2^53 Number() rounds: 9007199254740993 would quietly become ...992.
  if (!Number.isSafeInteger(n)) throw new Error(`${name} ${value} is out of range`);
  return n;
}

function parse(args: string[]): Parsed {
  const p: Parsed = { positional: [], unfused: false, overwrite: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const { flag, inline } = splitOption(a);
    const value = (): string | undefined => inline ?? args[++i];
    const on = (): true => {
      const problem = switchValueProblem(a);
      if (problem != null) throw new Error(problem);
      return true;
    };
    switch (flag) {
      case '--unfused': case '--no-fuse': p.unfused = on(); break;
      case '--overwrite': p.overwrite = on(); break;
      case '--seed': p.seed = intOption('--seed', value()); break;
      case '--input-size': p.inputSize = intOption('--input-size', value()); break;
      case '--batch': p.batch = intOption('--batch', value()); break;
      case '--classes': p.classes = intOption('--classes', value()); break;
      default:
        if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
        p.positional.push(a);
    }
  }
  return p;
}

function buildOptions(p: Parsed, onProgress?: (message: string) => void) {
  return { fused: !p.unfused, seed: p.seed, inputSize: p.inputSize, batch: p.batch, classes: p.classes, onProgress };
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  let parsed: Parsed;
  try {
    parsed = parse(args);
    if (parsed.positional.length !== 3) throw new Error(`expected <model> <variant> <outdir>, got ${parsed.positional.length} arguments`);
    const empty = emptyArgumentProblem('<outdir>', parsed.positional[2]);
    if (empty != null) throw new Error(empty);
    // The configuration (family, variant, sizes, seed) is part of the usage: checked before any work.
    resolveConfig(parsed.positional[0], parsed.positional[1], buildOptions(parsed));
  } catch (e) {
    console.error(`tfjs-block-fusion model: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [family, variant, out] = parsed.positional;
  const outdir = resolve(out);
  try {
    // Before the build, so a refusal costs nothing.
    checkOutdir(outdir, parsed.overwrite);
    const t0 = performance.now();
    // Progress to stderr (as convert's): the result line stays the only stdout.
    const built = buildModel(family, variant, buildOptions(parsed, (m) => console.error(`[model] ${m}`)));
    console.error(`[model] writing ${outdir}`);
    writeFolderAtomically(outdir, [
      { path: 'model.json', data: JSON.stringify(built.files.modelJson) },
      ...built.files.shards,
    ], parsed.overwrite);
    const c = built.config;
    const ops = built.graph.opCounts();
    const fusedNodes = (ops.FusedConvNeXtBlock ?? 0) + (ops.FusedConvFirstBlock ?? 0);
    const lnNodes = ops.FusedLayerNorm ?? 0;
    const patchNodes = ops.FusedPatchConv ?? 0;
    const headNodes = ops.FusedClassifierHead ?? 0;
    console.log(`${c.family}-${c.variant} (${c.fused ? `fused: ${fusedNodes} block nodes, ${lnNodes} LayerNorm nodes, ` +
      `${patchNodes} patch conv nodes, ${headNodes} classifier head node${headNodes === 1 ? '' : 's'}` :
      'unfused stock ops'}), ` +
      `input [${c.batch === -1 ? 'N' : c.batch}, ${c.inputSize}, ${c.inputSize}, 3], ${(built.params / 1e6).toFixed(2)}M parameters, ` +
      `${built.graph.nodes.length} nodes, ${built.files.shards.length} shard(s), seed ${c.seed} -> ${outdir} ` +
      `(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    return 0;
  } catch (e) {
    console.error(`tfjs-block-fusion model: ${(e as Error).message}`);
    return 1;
  }
}
