/**
 * The file side the commands share: the model a command-line path names (a folder stands for its model.json), a
 * GraphModel's files checked before anything is imported or profiled, and whether an output folder can be written.
 * Problems are ConversionErrors naming the file (the commands report them with exit code 1). Node-only.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync,
  writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { ConversionError } from '../converter/errors.js';
import { externalDataLength } from '../converter/external_data.js';
import type { ExternalDataReader } from '../converter/onnx_import.js';
import { folderWriteProblem } from './output_path.js';
import { checkGraphModelJson, type TfjsModelJson, weightGroupBytes } from '../converter/tfjs_import.js';
import { fileNextToModel } from '../node/model_folder_file.js';

/** The model file an input path names: a directory stands for its model.json (convert and analyze take either). */
export function resolveModelPath(path: string): string {
  if (!existsSync(path)) throw new ConversionError(`input ${path} does not exist`);
  if (!statSync(path).isDirectory()) return path;
  const mj = join(path, 'model.json');
  if (existsSync(mj)) return mj;
  throw new ConversionError(`input ${path} is a directory without model.json`);
}

/** The most Node reads into one buffer (its kIoMaxLength); readFileSync of a bigger file fails naming no file. */
const MAX_READ_BYTES = 2 ** 31 - 1;

/** A model file's bytes (an ONNX file, a model.json or a weight shard); one over 2 GiB is refused, naming it. */
export function readModelFile(path: string): Uint8Array {
  const { size } = statSync(path);
  if (size > MAX_READ_BYTES) {
    // Protobuf caps one message at 2 GB, so exporters move bigger models' weights into external data files.
    const onnx = path.endsWith('.onnx') ? '; an ONNX file cannot be that big (protobuf limits it to 2 GB): export a ' +
      "larger model with its weights in an external data file (torch.onnx.export's external_data=True), which the " +
      'converter reads next to the .onnx' : '';
    throw new ConversionError(`cannot read ${path}: it is ${(size / 1e9).toFixed(2)} GB, more than the 2 GiB Node ` +
      `reads from one file${onnx}`);
  }
  return new Uint8Array(readFileSync(path));
}

/**
 * Reads ONNX external data from the files next to `onnxPath` (an exporter's model.onnx.data): positioned reads, as a
 * data file may be far over the 2 GiB Node reads at once. Problems are ConversionErrors naming the file.
 */
export function onnxExternalDataReader(onnxPath: string): ExternalDataReader {
  return (location, offset, length) => {
    const file = fileNextToModel(onnxPath, location, 'external data file');
    const stat = existsSync(file) ? statSync(file) : null;
    if (stat == null || !stat.isFile()) {
      throw new ConversionError(`external data file ${location} named by ${basename(onnxPath)} is missing: not found ` +
        `next to it in ${dirname(file)}`);
    }
    const n = externalDataLength(location, stat.size, offset, length, basename(onnxPath));
    const out = new Uint8Array(n);
    const fd = openSync(file, 'r');
    try {
      for (let done = 0; done < n;) {
        const read = readSync(fd, out, done, Math.min(n - done, 2 ** 30), offset + done);
        if (read === 0) throw new ConversionError(`external data file ${location} ended while being read (changed meanwhile?)`);
        done += read;
      }
    } finally {
      closeSync(fd);
    }
    return out;
  };
}

/** Whether a model file is a model.json (else ONNX): by its name, or by a leading '{'. */
export function looksLikeJson(path: string, bytes: Uint8Array): boolean {
  return path.endsWith('.json') || bytes[0] === 0x7b; // '{'
}

/**
 * Parses a model.json and checks it is a GraphModel whose weight shards are all next to it at the sizes its
 * weightsManifest describes, naming the file at fault (the importer only sees the shards' bytes joined).
 * Returns the parsed model.json and the shard paths in manifest order.
 */
export function checkGraphModelFiles(path: string, bytes: Uint8Array = readModelFile(path)):
  { modelJson: TfjsModelJson; shardFiles: string[] } {
  let modelJson: unknown;
  try {
    modelJson = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new ConversionError(`${path} is not valid JSON (${(e as Error).message}): truncated or corrupt model.json?`);
  }
  checkGraphModelJson(modelJson, path);
  const dir = dirname(path);
  const name = basename(path);
  const shardFiles: string[] = [];
  for (const group of modelJson.weightsManifest ?? []) {
    const sizes = group.paths.map((p) => {
      const file = fileNextToModel(path, p, 'weight shard');
      const stat = existsSync(file) ? statSync(file) : null;
      if (stat == null || !stat.isFile()) {
        throw new ConversionError(`weight shard ${p} listed in ${name} is missing: not found next to it in ${dir}`);
      }
      shardFiles.push(file);
      return stat.size;
    });
    const want = weightGroupBytes(group);
    if (want != null && want !== sizes.reduce((a, b) => a + b, 0)) {
      throw new ConversionError(shardSizeProblem(group.paths, sizes, want, name));
    }
  }
  return { modelJson, shardFiles };
}

/** Why a weight group's shards (`sizes` bytes) do not hold the `want` bytes of its weights, naming the shard at fault. */
function shardSizeProblem(paths: string[], sizes: number[], want: number, name: string): string {
  if (paths.length === 0) return `${name}'s weightsManifest lists ${want} bytes of weights in a group without shard files`;
  const have = sizes.reduce((a, b) => a + b, 0);
  // Writers fill every shard of a group but the last to the same size: a shorter one is the bad one, else the last.
  const full = Math.max(...sizes.slice(0, -1), 0);
  let k = sizes.findIndex((n, i) => i < sizes.length - 1 && n < full);
  if (k < 0) k = sizes.length - 1;
  const expected = k < sizes.length - 1 ? full : want - (have - sizes[k]);
  if (expected <= 0) { // the other shards alone hold too much (a shard listed twice, another model's shards)
    return `weight shards ${paths.join(', ')} hold ${have} bytes, but ${name}'s weightsManifest describes ${want}: ` +
      `they do not belong to this ${name}`;
  }
  return sizes[k] < expected
    ? `weight shard ${paths[k]} is truncated: ${sizes[k]} bytes, but ${name}'s weightsManifest needs ${expected}`
    : `weight shard ${paths[k]} is ${sizes[k]} bytes, but ${name}'s weightsManifest describes ${expected}: ` +
      `the shard does not belong to this ${name}`;
}

/**
 * Throws unless `outdir` can take a command's output: absent, an empty directory, or (with --overwrite) an earlier
 * output folder, i.e. one holding a model.json; never the current directory or a folder above it: the output replaces
 * the folder, and --overwrite deletes what it held, so a mistyped path must not take a project with it. For convert
 * and model; analyze, which writes named files into its folder, has its own rule.
 */
export function checkOutdir(outdir: string, overwrite: boolean): void {
  const target = resolve(outdir);
  // The output is staged beside `outdir` and renamed into place: its parent must be (or become) a writable folder.
  checkWritableParent(outdir, dirname(target));
  if (!existsSync(target)) return;
  if (!statSync(target).isDirectory()) throw new ConversionError(`${outdir} exists and is not a directory`);
  // The output replaces the folder (a rename): never the directory the command runs in or one above it.
  const fromTarget = relative(target, process.cwd());
  if (fromTarget === '' || (!fromTarget.startsWith('..') && !isAbsolute(fromTarget))) {
    throw new ConversionError(`${outdir} is the current directory or contains it: write into a new folder`);
  }
  const entries = readdirSync(target);
  if (entries.length === 0) return;
  if (!overwrite) throw new ConversionError(`${outdir} exists and is not empty (pass --overwrite to replace it)`);
  if (!entries.includes('model.json')) {
    throw new ConversionError(`${outdir} is not empty and holds no model.json: --overwrite replaces only an earlier ` +
      'output folder (choose a new or empty folder)');
  }
}

/** Throws unless the nearest existing folder on the way to `parent` is a directory this process can write. */
function checkWritableParent(outdir: string, parent: string): void {
  const problem = folderWriteProblem(parent);
  if (problem != null) throw new ConversionError(`cannot write ${outdir}: ${problem}`);
}

/**
 * Writes `files` into a fresh sibling folder, then renames it into place (replacing `outdir`): a failure never leaves
 * a half-written `outdir`. Checks `outdir` again first: it may have changed while the output was being made.
 */
export function writeFolderAtomically(outdir: string, files: readonly { path: string; data: Uint8Array | string }[],
  overwrite: boolean): void {
  const target = resolve(outdir);
  checkOutdir(outdir, overwrite);
  const staging = `${target}.partial-${process.pid}-${Date.now()}`;
  try {
    mkdirSync(dirname(target), { recursive: true });
    mkdirSync(staging);
    for (const f of files) writeFileSync(join(staging, f.path), f.data);
    if (existsSync(target)) rmSync(target, { recursive: true });
    renameSync(staging, target);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    // Name the folder the user gave (not the staging one) and what the system said (disk full, read-only, ...).
    throw new ConversionError(`cannot write ${outdir}: ${(e as Error).message.replace(staging, '<staging folder>')}`);
  }
}
