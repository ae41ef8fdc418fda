/** Where a model.json's weight shard lives on disk (no tfjs import: the convert command uses it before any). Node-only. */
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { ConversionError } from '../converter/errors.js';

/**
 * The file of a weight shard that a model.json's weightsManifest lists. Writers list plain file names; a path that
 * is absolute or climbs out of the model's folder ('../../x.bin') is refused, so an untrusted model.json cannot
 * make the converter read, copy into its output or report the size of any other file on the machine.
 */
export function weightShardFile(modelJsonPath: string, shardPath: string): string {
  const rel = normalize(shardPath);
  if (isAbsolute(shardPath) || rel === '..' || rel.startsWith(`..${sep}`)) {
    throw new ConversionError(`weight shard ${shardPath} listed in ${modelJsonPath} is outside the model's folder: ` +
      'a weightsManifest lists files next to its model.json');
  }
  return join(dirname(modelJsonPath), rel);
}
