/**
 * `tfjs-block-fusion convert <model.onnx | model.json | dir> <outdir> [options]`: the file side of the converter
 * (reading, the atomic output directory, the printed report). The conversion itself is the library in
 * src/converter/. Exit codes: 0 converted (blocks fused, the input already fused, or --no-fuse), 1 conversion
 * failed (nothing written), 2 usage error, 3 converted but no block was found (written unfused, stock ops only).
 */
import { dirname, join, resolve } from 'node:path';
import { type ConvertResult, type ConvertSource, convertModel } from '../converter/convert.js';
import { ConversionError } from '../converter/errors.js';
import { quietCpuBackendBanner } from './cpu_backend.js';
import { emptyArgumentProblem, splitOption, switchValueProblem } from './options.js';
import { checkGraphModelFiles, checkOutdir, looksLikeJson, onnxExternalDataReader, readModelFile, resolveModelPath,
  writeFolderAtomically } from './files.js';

const USAGE = `usage: tfjs-block-fusion convert <model.onnx | model.json | dir> <outdir> [options]

Rewrites a ConvNeXt / ConvFirst model (ONNX from PyTorch, or a TF.js GraphModel) into a TF.js GraphModel
whose residual blocks are single FusedConvNeXtBlock / FusedConvFirstBlock ops.

options:
  --verify                 run the unfused and fused graphs on a seeded random input and report the error
  --no-fuse                convert only (stock TF.js ops)
  --input-layout nchw|nhwc ONNX only: input layout of the converted model (default: nchw, the ONNX model's own)
  --quantize float16|uint8 quantize the weights (default: keep the input's precision)
  --overwrite              replace an earlier output in <outdir> (a folder holding a model.json)
  -h, --help               this text`;

export interface ConvertArgs {
  input: string;
  outdir: string;
  verify: boolean;
  fuse: boolean;
  inputLayout?: 'nchw' | 'nhwc';
  quantize?: 'float16' | 'uint8';
  overwrite: boolean;
}

class UsageError extends Error {}

export function parseArgs(args: string[]): ConvertArgs | 'help' {
  const positional: string[] = [];
  const out: Partial<ConvertArgs> = { verify: false, fuse: true, overwrite: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const { flag, inline } = splitOption(a);
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v == null) throw new UsageError(`${a} needs a value`);
      return v;
    };
    const noValue = (): void => {
      const problem = switchValueProblem(a);
      if (problem != null) throw new UsageError(problem);
    };
    switch (flag) {
      case '-h': case '--help': return 'help';
      case '--verify': noValue(); out.verify = true; break;
      case '--no-fuse': noValue(); out.fuse = false; break;
      case '--overwrite': noValue(); out.overwrite = true; break;
      case '--input-layout': {
        const v = value().toLowerCase();
        if (v !== 'nchw' && v !== 'nhwc') throw new UsageError(`--input-layout must be nchw or nhwc, got '${v}'`);
        out.inputLayout = v;
        break;
      }
      case '--quantize': {
        const v = value().toLowerCase();
        if (v !== 'float16' && v !== 'uint8') throw new UsageError(`--quantize must be float16 or uint8, got '${v}'`);
        out.quantize = v;
        break;
      }
      default:
        if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
        positional.push(a);
    }
  }
  if (positional.length !== 2) throw new UsageError(`expected <model> and <outdir>, got ${positional.length} argument(s)`);
  const empty = emptyArgumentProblem('<outdir>', positional[1]) ?? emptyArgumentProblem('<model>', positional[0]);
  if (empty != null) throw new UsageError(empty);
  return { ...out, input: positional[0], outdir: positional[1] } as ConvertArgs;
}

/** Reads the input model (read only: the input is never written). */
export function readSource(input: string): ConvertSource {
  const path = resolveModelPath(input);
  const bytes = readModelFile(path);
  if (!looksLikeJson(path, bytes)) return { format: 'onnx', bytes, externalData: onnxExternalDataReader(path) };
  const { modelJson, shardFiles } = checkGraphModelFiles(path, bytes);
  const shards = shardFiles.map(readModelFile);
  const total = shards.reduce((s, b) => s + b.byteLength, 0);
  const weightData = new Uint8Array(total);
  let off = 0;
  for (const s of shards) { weightData.set(s, off); off += s.byteLength; }
  return { format: 'tfjs', modelJson, weightData };
}

/** The converted model, its shards and conversion-report.json, written atomically into `outdir`. */
function writeOutdir(outdir: string, result: ConvertResult, overwrite: boolean): void {
  writeFolderAtomically(outdir, [
    { path: 'model.json', data: JSON.stringify(result.files.modelJson) },
    ...result.files.shards,
    { path: 'conversion-report.json', data: `${JSON.stringify(result.report, null, 2)}\n` },
  ], overwrite);
}

function printReport(r: ConvertResult['report']): void {
  console.log(r.summary);
  if (r.blocks.total > 0) {
    for (const [key, n] of Object.entries(r.blockSpecs)) console.log(`  ${n} x ${key}`);
  }
  const left = Object.entries(r.unfusedOps).sort((a, b) => b[1] - a[1]).map(([op, n]) => `${op} ${n}`).join(', ');
  console.log(`  nodes: ${r.nodes.before} before, ${r.nodes.after} after; stock ops left: ${left || 'none'}`);
  if (r.verify) {
    console.log(`  verify (seed ${r.verify.seed}, ${r.verify.backend}): max abs error ${r.verify.maxAbsError.toExponential(3)}, ` +
      `max relative error ${r.verify.maxRelError.toExponential(3)}`);
  }
}

async function setUpVerifyBackend(): Promise<void> {
  const tf = await import('@tensorflow/tfjs-core');
  try {
    await import('@tensorflow/tfjs-backend-cpu');
  } catch {
    throw new ConversionError('--verify needs @tensorflow/tfjs-backend-cpu (npm install @tensorflow/tfjs-backend-cpu)');
  }
  await import('../index.js'); // fused kernels + registerOp
  await tf.setBackend('cpu');
  await quietCpuBackendBanner();
}

export async function run(args: string[]): Promise<number> {
  let parsed: ConvertArgs | 'help';
  try {
    parsed = parseArgs(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`tfjs-block-fusion convert: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed === 'help') {
    console.log(USAGE);
    return 0;
  }
  const a = parsed;
  const progress = (m: string): void => { console.error(`[convert] ${m}`); };
  try {
    if (resolve(a.outdir) === resolve(dirname(a.input)) || resolve(a.outdir) === resolve(a.input)) {
      throw new ConversionError('<outdir> must not be the input model or its directory');
    }
    // Before the import, fusion and --verify, which take a while on a large model.
    checkOutdir(a.outdir, a.overwrite);
    progress(`reading ${a.input}`);
    const source = readSource(a.input);
    if (source.format === 'tfjs' && a.inputLayout != null) {
      console.error(`tfjs-block-fusion convert: --input-layout applies to ONNX models only; ${a.input} is a TF.js ` +
        `GraphModel, which keeps its own (NHWC) input\n\n${USAGE}`);
      return 2;
    }
    const result = convertModel(source, { fuse: a.fuse, inputLayout: a.inputLayout, quantize: a.quantize, onProgress: progress });
    if (a.verify) {
      progress('verifying: unfused vs fused on a seeded random input (cpu backend)');
      await setUpVerifyBackend();
      const { verifyConversion } = await import('../converter/report.js');
      result.report.verify = await verifyConversion(result.unfused, result.graph,
        { seed: 1234, quantize: a.quantize, onProgress: (m) => progress(`verify: ${m}`) });
    }
    progress(`writing ${a.outdir}`);
    writeOutdir(a.outdir, result, a.overwrite);
    printReport(result.report);
    const mb = result.files.shards.reduce((s, f) => s + f.data.byteLength, 0) / 1e6;
    console.log(`wrote ${join(a.outdir, 'model.json')} + ${result.files.shards.length} shard(s), ${mb.toFixed(2)} MB`);
    // An already fused input (a converted model converted again) is written as is; the summary says so.
    if (a.fuse && result.report.blocks.total === 0 && Object.keys(result.report.alreadyFused).length === 0) {
      console.error('tfjs-block-fusion convert: no ConvNeXt or ConvFirst block was found; the model was written unfused ' +
        '(stock TF.js ops). Use --no-fuse to convert without fusion on purpose.');
      return 3;
    }
    return 0;
  } catch (e) {
    if (e instanceof ConversionError) {
      console.error(`tfjs-block-fusion convert: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
