/**
 * `tfjs-block-fusion model <convnext|convfirst> <variant> <outdir> [--unfused] [--seed S] [--input-size 224]
 * [--batch N] [--classes K] [--overwrite]`: writes a GraphModel (model.json + weight shards) with seeded random
 * weights. Exit codes: 0 written, 1 failed (nothing written), 2 usage (bad arguments or configuration).
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { buildModel, MODEL_FAMILIES, resolveConfig, VARIANTS } from '../../models/index.js';

const USAGE = `usage: tfjs-block-fusion model <${MODEL_FAMILIES.join('|')}> <variant> <outdir> [options]

variants: ${VARIANTS.join(', ')}

options:
  --unfused          stock TF.js ops instead of one fused node per residual block (alias: --no-fuse, as in convert)
  --seed S           seed of the random weights, 0 .. 4294967295 (default 0; same seed = same weights fused or unfused)
  --input-size P     input height = width, a multiple of 32 (default 224)
  --batch N          fixed batch size (default: dynamic)
  --classes K        classes of the linear head (default 1000)
  --overwrite        replace <outdir> if it exists and is not empty`;

interface Parsed { positional: string[]; unfused: boolean; overwrite: boolean; seed?: number; inputSize?: number;
  batch?: number; classes?: number }

function intOption(name: string, value: string | undefined): number {
  if (value == null || !/^-?\d+$/.test(value)) throw new Error(`${name} needs an integer, got ${value ?? 'nothing'}`);
  return Number(value);
}

function parse(args: string[]): Parsed {
  const p: Parsed = { positional: [], unfused: false, overwrite: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string | undefined => inline ?? args[++i];
    /** A switch takes no value: `--unfused=no` would otherwise read as on. */
    const on = (): true => {
      if (inline !== undefined) throw new Error(`${flag} takes no value, got ${a}`);
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

/** Why `outdir` cannot be written, or null: checked before the build so a refusal costs nothing. */
function outdirProblem(outdir: string, overwrite: boolean): string | null {
  if (!existsSync(outdir)) return null;
  if (!statSync(outdir).isDirectory()) return `${outdir} exists and is not a folder`;
  if (!overwrite && readdirSync(outdir).length > 0) return `${outdir} exists and is not empty; choose a new folder or pass --overwrite`;
  return null;
}

/** Writes into a sibling temp folder, then renames it into place: no half-written outdir on failure. */
function writeAtomically(outdir: string, files: { path: string; data: Uint8Array | string }[]): void {
  const tmp = join(dirname(outdir), `.${Date.now()}-${process.pid}.tmp-model`);
  mkdirSync(tmp, { recursive: true });
  try {
    for (const f of files) writeFileSync(join(tmp, f.path), f.data);
    if (existsSync(outdir)) rmSync(outdir, { recursive: true });
    renameSync(tmp, outdir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
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
    // The configuration (family, variant, sizes, seed) is part of the usage: checked before any work.
    resolveConfig(parsed.positional[0], parsed.positional[1], buildOptions(parsed));
  } catch (e) {
    console.error(`tfjs-block-fusion model: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [family, variant, out] = parsed.positional;
  const outdir = resolve(out);
  const problem = outdirProblem(outdir, parsed.overwrite);
  if (problem != null) {
    console.error(`tfjs-block-fusion model: ${problem}`);
    return 1;
  }
  try {
    const t0 = performance.now();
    // Progress to stderr (as convert's): the result line stays the only stdout.
    const built = buildModel(family, variant, buildOptions(parsed, (m) => console.error(`[model] ${m}`)));
    console.error(`[model] writing ${outdir}`);
    writeAtomically(outdir, [
      { path: 'model.json', data: JSON.stringify(built.files.modelJson) },
      ...built.files.shards,
    ]);
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
