/**
 * An ExternalDataReader over files already in memory: what a web page has after the user drops a model.onnx with its
 * model.onnx.data (File reads are async, the ONNX decoder's reader is not, so the page reads the files first).
 */
import { ConversionError } from './errors.js';
import type { ExternalDataReader } from './onnx_import.js';

/** Reads external data from `files` (by file name; a location's folders are ignored, as dropped files have none). */
export function inMemoryExternalData(files: ReadonlyMap<string, Uint8Array>, onnxName: string): ExternalDataReader {
  return (location, offset, length) => {
    const name = location.split(/[\\/]/).pop()!;
    const bytes = files.get(name);
    if (bytes == null) {
      throw new ConversionError(`external data file ${location} named by ${onnxName} is missing: add it to the files`);
    }
    const n = length ?? bytes.byteLength - offset;
    if (n < 0 || offset + n > bytes.byteLength) {
      throw new ConversionError(`external data file ${name} is ${bytes.byteLength} bytes, but ${onnxName} reads bytes ` +
        `${offset}..${offset + n} of it: truncated, or not this model's`);
    }
    return bytes.subarray(offset, offset + n);
  };
}
