/**
 * The --json FILE of the bench scripts: checked when the command line is parsed, written when the run ends. A run
 * takes minutes to an hour on a GPU, so a path that cannot be written must fail before it starts, and a missing
 * folder is created rather than losing the results to ENOENT at the end.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { folderWriteProblem } from '../../src/cli/output_path.js';

/** FlagSpec check of an output file path: not a folder, and its folder exists or can be created and written. */
export function outputFileProblem(value: string): string | null {
  const path = resolve(value);
  if (/[\\/]$/.test(value) || (existsSync(path) && statSync(path).isDirectory())) {
    return 'is a folder; expected a file path';
  }
  return folderWriteProblem(dirname(path));
}

/** Writes `value` as JSON to `file`, creating its folder first. */
export function writeJsonFile(file: string, value: unknown, indent = 1): void {
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, JSON.stringify(value, null, indent));
}
