/**
 * The --json FILE of the bench scripts (and analyze:models' --out DIR): checked when the command line is parsed,
 * written when the run ends. A run takes minutes to an hour on a GPU, so a path that cannot be written must fail
 * before it starts, and a missing folder is created rather than losing the results to ENOENT at the end.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** FlagSpec check of an output file path: not a folder, and its folder exists or can be created. */
export function outputFileProblem(value: string): string | null {
  const path = resolve(value);
  if (/[\\/]$/.test(value) || (existsSync(path) && statSync(path).isDirectory())) {
    return 'is a folder; expected a file path';
  }
  return outputFolderProblem(dirname(path));
}

/** FlagSpec check of an output folder: a folder, or one that can be created (its nearest existing ancestor is a folder). */
export function outputFolderProblem(value: string): string | null {
  let dir = resolve(value);
  while (!existsSync(dir)) dir = dirname(dir);
  return statSync(dir).isDirectory() ? null : `${dir} is a file, so the folder cannot be created`;
}

/** Writes `value` as JSON to `file`, creating its folder first. */
export function writeJsonFile(file: string, value: unknown, indent = 1): void {
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, JSON.stringify(value, null, indent));
}
