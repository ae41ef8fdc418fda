/**
 * Whether an output folder can be made: the check every command (and the bench scripts) runs before its work, so a
 * path under a file or in a read-only folder fails in seconds instead of at the end of a long run. Node-only.
 */
import { accessSync, constants as fsConstants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Why `dir` (existing or to be created) cannot take files: its nearest existing folder on the way is a file or not
 * writable. Null when it can.
 */
export function folderWriteProblem(dir: string): string | null {
  let existing = resolve(dir);
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  if (!statSync(existing).isDirectory()) return `${existing} is a file, not a folder`;
  try {
    accessSync(existing, fsConstants.W_OK | fsConstants.X_OK);
  } catch {
    return `no permission to create files in ${existing}`;
  }
  return null;
}
