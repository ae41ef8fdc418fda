/**
 * Per-weight-set preprocessing for the fused kernels, done once and cached against the weight tensors'
 * dataIds: for the blocks, LayerNorm gamma/beta folded into W1/b1, layer scale into W2/b2, all four packed
 * into one GPU buffer (FoldWeightsProgram); for the patch conv, its pre-LayerNorm folded into the filter
 * and bias (PatchConvFoldProgram). Entries are freed when any source tensor is disposed (the backend's
 * disposeData is wrapped once per backend to hear about it, so a cache hit costs no scan of the cache), when their
 * backend is disposed (`tf.removeBackend`, which destroys the buffers), or by `clearWebGPUWeightCache()`.
 *
 * The packed buffers are owned by the cache, not registered as tfjs tensors, so they do not show up in
 * tf.memory() and do not trip the engine's per-kernel leak check; each call binds them through a
 * short-lived external TensorInfo that the backend releases without freeing the buffer.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { packedOffsets } from './block_wgsl.js';
import { FoldWeightsProgram } from './fold_weights_program.js';

type DataId = object;

export interface MlpWeightInputs {
  w1: tf.TensorInfo; b1: tf.TensorInfo; w2: tf.TensorInfo; b2: tf.TensorInfo;
  gamma?: tf.TensorInfo; beta?: tf.TensorInfo; scale?: tf.TensorInfo;
}

interface Entry {
  backend: WebGPUBackend;
  sources: DataId[];
  buffer: GPUBuffer;
  length: number;
  /**
   * Made under WEBGPU_ENGINE_COMPILE_ONLY (tfjs's parallel-compile warm-up): the fold program was compiled but not
   * run, so the buffer holds no weights yet; the first call that executes folds into it.
   */
  unfolded: boolean;
}

const ids = new WeakMap<DataId, number>();
let nextId = 0;
function idOf(dataId: DataId): number {
  let id = ids.get(dataId);
  if (id == null) { id = nextId++; ids.set(dataId, id); }
  return id;
}

const entries = new Map<string, Entry>();
/** Cache keys by source dataId, so a disposal finds its entries without scanning the cache. */
const bySource = new Map<DataId, Set<string>>();
const hooked = new WeakSet<WebGPUBackend>();
let folds = 0;

function release(key: string, entry: Entry): void {
  entries.delete(key);
  for (const id of entry.sources) {
    const keys = bySource.get(id);
    keys?.delete(key);
    if (keys?.size === 0) bySource.delete(id);
  }
  // Back to the backend's pool: reuse is ordered after any already-recorded use of this buffer.
  entry.backend.bufferManager.releaseBuffer(entry.buffer);
}

/**
 * Wraps the backend's disposeData and dispose once: when a source weight's last reference goes, its entries go too;
 * when the backend goes (tf.removeBackend), all of its entries go before its buffer manager destroys the buffers,
 * so the cache keeps neither dead entries nor the backend alive.
 */
function hearDisposals(backend: WebGPUBackend): void {
  if (hooked.has(backend)) return;
  hooked.add(backend);
  const disposeData = backend.disposeData.bind(backend);
  backend.disposeData = (dataId: DataId, force?: boolean): boolean => {
    const released = disposeData(dataId as never, force);
    const keys = released ? bySource.get(dataId) : undefined;
    if (keys != null) for (const key of [...keys]) release(key, entries.get(key)!);
    return released;
  };
  const dispose = backend.dispose.bind(backend);
  backend.dispose = (): void => {
    for (const [key, entry] of entries) if (entry.backend === backend) release(key, entry);
    dispose();
  };
}

/** Frees every cached packed weight set (e.g. after swapping models). */
export function clearWebGPUWeightCache(): void {
  for (const [key, entry] of entries) release(key, entry);
}

/** Number of cached weight sets and how many folds ran since load (for tests and reports). */
export function webgpuWeightCacheStats(): { entries: number; folds: number } {
  return { entries: entries.size, folds };
}

/** A TensorInfo viewing a cache-owned buffer; dispose it with backend.disposeData after use. */
function externalInfo(backend: WebGPUBackend, buffer: GPUBuffer, length: number): tf.TensorInfo {
  const dataId = {};
  backend.tensorMap.set(dataId, { dtype: 'float32', shape: [length], values: null, refCount: 1, external: true,
    resource: buffer } as never);
  return { dataId, shape: [length], dtype: 'float32' };
}

/**
 * A TensorInfo over the cache's buffer of `length` floats for this weight set (`kind` plus the source
 * tensors' dataIds and shapes, absent ones as '-'), running `fold(out)` to fill it on first use. The caller must
 * `backend.disposeData(info.dataId)` after its program ran.
 */
export function cachedWeights(backend: WebGPUBackend, kind: string, sources: (tf.TensorInfo | undefined)[],
  length: number, fold: (out: tf.TensorInfo) => void): tf.TensorInfo {
  hearDisposals(backend);
  // Shapes too: tf.reshape views share a dataId, and a bias-less patch conv's filter reshaped to another k / Cout
  // (same size) must not get the first view's folded layout.
  const key = `${kind}:${sources.map((t) => (t == null ? '-' : `${idOf(t.dataId)}[${t.shape}]`)).join(',')}`;
  const compileOnly = tf.env().getBool('WEBGPU_ENGINE_COMPILE_ONLY');
  let entry = entries.get(key);
  if (entry == null) {
    const buffer = backend.bufferManager.acquireBuffer(length * 4,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
    entry = { backend, sources: sources.filter((t) => t != null).map((t) => t!.dataId), buffer, length,
      unfolded: true };
    entries.set(key, entry);
    for (const id of entry.sources) {
      if (!bySource.has(id)) bySource.set(id, new Set());
      bySource.get(id)!.add(key);
    }
  }
  if (entry.unfolded) {
    const out = externalInfo(backend, entry.buffer, length);
    fold(out); // only compiles the fold program under compile-only
    backend.disposeData(out.dataId);
    if (!compileOnly) {
      entry.unfolded = false;
      folds++;
    }
  }
  return externalInfo(backend, entry.buffer, entry.length);
}

/**
 * Returns a TensorInfo over the packed [W1' | W2' | b1' | b2'] weights (folding them on first use).
 * The caller must `backend.disposeData(info.dataId)` after its program ran.
 */
export function packedMlpWeights(backend: WebGPUBackend, w: MlpWeightInputs): tf.TensorInfo {
  const [c, d] = w.w1.shape;
  const norm = w.gamma != null && w.beta != null;
  return cachedWeights(backend, 'mlp', [w.w1, w.b1, w.w2, w.b2, w.gamma, w.beta, w.scale], packedOffsets(c, d).length,
    (out) => {
      const program = new FoldWeightsProgram(c, d, norm, w.scale != null);
      const inputs = [w.w1, w.b1, w.w2, w.b2, ...(norm ? [w.gamma!, w.beta!] : []), ...(w.scale ? [w.scale] : [])];
      backend.runWebGPUProgram(program, inputs, 'float32', undefined, out);
    });
}
