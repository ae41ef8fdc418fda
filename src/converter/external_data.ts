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
    const n = externalDataLength(name, bytes.byteLength, offset, length, onnxName);
    return bytes.subarray(offset, offset + n);
  };
}

/**
 * The bytes a tensor reads from a data file of `size` bytes (`length`, or to the end when undefined), checked to lie
 * within it; a range past its end is a ConversionError naming the file (any reader: in memory or on disk).
 */
export function externalDataLength(file: string, size: number, offset: number, length: number | undefined,
  onnxName: string): number {
  const n = length ?? size - offset;
  if (n < 0 || offset + n > size) {
    throw new ConversionError(`external data file ${file} is ${size} bytes, but ${onnxName} reads bytes ` +
      `${offset}..${offset + n} of it: truncated, or not this model's`);
  }
  return n;
}
