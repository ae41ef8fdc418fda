/** Where a file a model lists (a weight shard, ONNX external data) lives on disk; no tfjs import, so convert can use it. Node-only. */
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { ConversionError } from '../converter/errors.js';

/**
 * The file `listedPath` names, relative to the model file `modelPath` lists it in (a weight shard in a model.json's
 * weightsManifest, an external data file in an .onnx). Exporters list plain file names; a path that is absolute or
 * climbs out of the model's folder ('../../x.bin') is refused, so an untrusted model cannot make the converter read,
 * copy into its output or report the size of any other file on the machine. `what` names the kind of file.
 */
export function fileNextToModel(modelPath: string, listedPath: string, what: string): string {
  const rel = normalize(listedPath);
  if (isAbsolute(listedPath) || rel === '..' || rel.startsWith(`..${sep}`)) {
    throw new ConversionError(`${what} ${listedPath} listed in ${modelPath} is outside the model's folder: ` +
      'a model lists only files next to it');
  }
  return join(dirname(modelPath), rel);
}
