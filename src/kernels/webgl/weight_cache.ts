/**
 * Prepared weights, built once per weight set and kept on the GPU: LayerNorm's gamma / beta and the
 * layer scale folded into the 1x1 weights and biases, filters re-shaped for the conv pass. Entries are
 * keyed by all the weight tensors' dataIds (looked up by the first one) and freed as soon as any of those tensors is
 * disposed (the backend's disposeData is wrapped once to hear about it). Weight sets that share a tensor (one
 * dwFilter in two blocks, a set used with and without its layer scale) each keep their entry.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DataId, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import { excuseFromLeakCheck } from '../leak_check.js';

export interface PreparedTensor { shape: number[]; values: Float32Array }

/**
 * `placeholder`: built under ENGINE_COMPILE_ONLY (tfjs's parallel-compile warm-up) from zeros of the right shapes,
 * since nothing can be read back then (a readSync would run unexecuted programs, return garbage and cache it on the
 * source tensor); replaced by the real weights on the first call that executes.
 */
interface Entry { key: string; sources: DataId[]; tensors: Record<string, TensorInfo>; placeholder: boolean }

/** Entries by their first source's dataId (a few per id at most: the sets sharing that tensor). */
const caches = new WeakMap<MathBackendWebGL, Map<DataId, Entry[]>>();

function cacheFor(backend: MathBackendWebGL): Map<DataId, Entry[]> {
  let cache = caches.get(backend);
  if (cache != null) return cache;
  const entries = new Map<DataId, Entry[]>();
  cache = entries;
  caches.set(backend, entries);
  const disposeData = backend.disposeData.bind(backend);
  backend.disposeData = (dataId: DataId, force?: boolean): boolean => {
    const released = disposeData(dataId, force);
    if (!backend.texData.has(dataId)) {
      for (const [first, list] of entries) {
        const kept = list.filter((entry) => !entry.sources.includes(dataId));
        for (const entry of list) if (!kept.includes(entry)) freeEntry(backend, disposeData, entry);
        if (kept.length === 0) entries.delete(first);
        else if (kept.length !== list.length) entries.set(first, kept);
      }
    }
    return released;
  };
  return cache;
}

function freeEntry(backend: MathBackendWebGL, disposeData: (id: DataId, force?: boolean) => boolean,
  entry: Entry): void {
  for (const t of Object.values(entry.tensors)) disposeData(t.dataId, true);
  void backend;
}

/**
 * The prepared tensors for weights `sources` (all of them, in order, and `key` identify the entry), built by
 * `prepare` from their values on a miss. `key` names what else the preparation depends on (kind, shapes).
 */
export function preparedWeights(backend: MathBackendWebGL, key: string, sources: TensorInfo[],
  prepare: (values: Float32Array[]) => Record<string, PreparedTensor>): Record<string, TensorInfo> {
  const cache = cacheFor(backend);
  const ids = sources.map((s) => s.dataId);
  const compileOnly = tf.env().getBool('ENGINE_COMPILE_ONLY');
  let list = cache.get(ids[0]) ?? [];
  const hit = list.find((e) => e.key === key && e.sources.length === ids.length && e.sources.every((id, i) => id === ids[i]));
  if (hit != null && (!hit.placeholder || compileOnly)) return hit.tensors;
  // Counted before a placeholder is freed: replacing it leaves the backend's data ids as they were.
  const before = backend.numDataIds();
  if (hit != null) {
    // A compile-only placeholder: free it and prepare the real weights.
    list = list.filter((e) => e !== hit);
    for (const t of Object.values(hit.tensors)) backend.disposeData(t.dataId, true);
  }
  // Read once per weight set (a GPU -> CPU copy if the weights were uploaded already) and fold in float64; under
  // ENGINE_COMPILE_ONLY nothing executes, so zeros of the same sizes stand in (only the shapes matter then).
  const values = sources.map((s) => compileOnly ? new Float32Array(tf.util.sizeFromShape(s.shape)) :
    Float32Array.from(backend.readSync(s.dataId) as Float32Array));
  const tensors: Record<string, TensorInfo> = {};
  for (const [name, t] of Object.entries(prepare(values))) {
    tensors[name] = backend.makeTensorInfo(t.shape, 'float32', t.values);
  }
  cache.set(ids[0], [...list, { key, sources: ids, tensors, placeholder: compileOnly }]);
  // Cached weights outlive the kernel on purpose (they are freed with their source tensors).
  excuseFromLeakCheck(backend.numDataIds() - before);
  return tensors;
}

/** Number of cached weight sets on this backend (for tests and reports). */
export function cachedWeightSets(backend: MathBackendWebGL): number {
  let sets = 0;
  for (const list of caches.get(backend)?.values() ?? []) sets += list.length;
  return sets;
}
