/**
 * One profiled run: the top-level kernels a function dispatches, with their shapes and times, through
 * `tf.profile`. Browser-safe.
 *
 * tf.profile also lists kernels that run inside another kernel (a reference block kernel composes stock
 * ops; a customGrad op such as tf.fused.conv2d runs its FusedConv2D kernel inside a `fusedConv2d__op`
 * scope), after the inner ones. Listing both would count the work twice, so we note the engine's kernel
 * depth as each record is pushed, return the depth-0 records, and hang the inner ones under them
 * (`nested`), which the cost model reads when the outer name has no formula of its own. The outer
 * record's time covers the inner kernels (wall time includes them; GPU timer sources do not, so their
 * times are added). We also note each record's input data ids, so a model's weights can be matched.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Where kernel times come from. */
export type TimingSource =
  /** WebGPU timestamp queries around each program (tf.profile on the webgpu backend). */
  | 'gpu-timestamp'
  /** WebGL EXT_disjoint_timer_query per program. */
  | 'gpu-timer-query'
  /** Host wall time per kernel (cpu / wasm, or WebGL without timer queries: includes a sync per kernel). */
  | 'wall'
  /** The backend produced no times (e.g. WebGPU without timestamp-query): times are 0. */
  | 'none';

export interface KernelRecord {
  name: string;
  inputShapes: Array<number[] | null>;
  outputShapes: number[][];
  /** Kernel time in ms, null when the backend reported an error for it. */
  timeMs: number | null;
  /** Backend detail, e.g. the WebGPU program names and their times. */
  extraInfo: string;
  /** Kernels that ran inside this one, in order (their times are part of this one's). */
  nested: KernelRecord[];
  /** The engine's data ids of the inputs, in input order (null for an absent input): identifies weights. */
  inputDataIds: Array<object | null>;
  /**
   * The attributes the kernel was called with (runKernel's attrs: a fused block's activation, a pool's window, a
   * fused conv's activation), which tf.profile's report leaves out; absent when the call had none.
   */
  attrs?: Readonly<Record<string, unknown>>;
}

export interface KernelTrace {
  backend: string;
  timing: TimingSource;
  kernels: KernelRecord[];
  /** Kernels that ran inside another kernel (their time is part of the outer kernel's). */
  nestedKernels: number;
  warnings: string[];
}

/** Adds the inner kernels' GPU times (and program details) to an outer record's, recursively. */
export function addNestedGpuTime(record: KernelRecord): void {
  if (record.nested.length === 0) return;
  record.nested.forEach(addNestedGpuTime);
  const inner = record.nested.reduce((sum, r) => sum + (r.timeMs ?? 0), 0);
  record.timeMs = (record.timeMs ?? 0) + inner;
  record.extraInfo = [record.extraInfo, ...record.nested.map((r) => r.extraInfo)].filter((x) => x !== '').join(', ');
}

interface EngineInternals {
  kernelDepth: number;
  profiling: boolean;
  activeProfile: { kernels: unknown[] };
}

interface KernelParams {
  inputs?: Record<string, { dataId?: object } | null | undefined>;
  attrs?: Record<string, unknown>;
}

/** What the wrapped runKernelFunc notes about each call: its input data ids and attributes. */
interface CallInfo { ids: Array<object | null>; attrs?: Readonly<Record<string, unknown>> }

interface PatchableEngine {
  runKernelFunc(params: KernelParams): unknown;
}

/**
 * Calls `f` with the engine's runKernelFunc wrapped so that each profile record pushed during a kernel
 * call gets that call's input data ids and attributes (the record is the last one pushed when the call returns).
 */
function withCallInfo<T>(calls: WeakMap<object, CallInfo>, records: () => unknown[], f: () => T): T {
  const engine = tf.engine() as unknown as PatchableEngine;
  const own = Object.prototype.hasOwnProperty.call(engine, 'runKernelFunc');
  const original = engine.runKernelFunc;
  engine.runKernelFunc = function runKernelFuncWithIds(this: unknown, params: KernelParams): unknown {
    const out = original.call(this, params);
    const list = records();
    const last = list[list.length - 1] as object | undefined;
    if (last != null && !calls.has(last)) {
      calls.set(last, {
        ids: Object.values(params.inputs ?? {}).map((t) => (t?.dataId ?? null)),
        attrs: params.attrs != null && Object.keys(params.attrs).length > 0 ? { ...params.attrs } : undefined,
      });
    }
    return out;
  };
  const restore = () => {
    if (own) engine.runKernelFunc = original;
    else delete (engine as Partial<PatchableEngine>).runKernelFunc;
  };
  try {
    const result = f();
    if (result instanceof Promise) return result.finally(restore) as T;
    restore();
    return result;
  } catch (e) {
    restore();
    throw e;
  }
}

interface BackendTimerInfo {
  timerAvailable?: () => boolean;
  supportTimestampQuery?: boolean;
}

/** Which timing source the active backend gives tf.profile, and a warning when it is not a GPU timer. */
export function timingSourceOf(backendName: string): { timing: TimingSource; warning?: string } {
  const backend = tf.backend() as unknown as BackendTimerInfo;
  if (backendName === 'webgpu') {
    return backend.supportTimestampQuery === true ? { timing: 'gpu-timestamp' } : {
      timing: 'none',
      warning: 'webgpu: the device has no timestamp-query feature, kernel times are unavailable (0); ' +
        'in Chrome start with --enable-dawn-features=allow_unsafe_apis',
    };
  }
  if (backendName === 'webgl') {
    return backend.timerAvailable?.() === true ? { timing: 'gpu-timer-query' } : {
      timing: 'wall',
      warning: 'webgl: no reliable EXT_disjoint_timer_query in this browser; kernel times are wall time ' +
        'per kernel including a readback sync each, an upper bound on GPU time',
    };
  }
  return { timing: 'wall' };
}

/**
 * Runs `f` once under tf.profile and returns its top-level kernels. Tensors `f` returns are disposed.
 * Throws when `f` throws; leaks nothing `f` does not leak.
 */
export async function traceKernels(f: () => tf.TensorContainer | Promise<tf.TensorContainer>): Promise<KernelTrace> {
  const backend = tf.getBackend();
  const { timing, warning } = timingSourceOf(backend);
  const state = tf.engine().state as unknown as EngineInternals;
  const depths: number[] = [];
  const calls = new WeakMap<object, CallInfo>();
  let info: Awaited<ReturnType<typeof tf.profile>>;
  try {
    info = await tf.profile(async () => {
      // tf.profile has just made a fresh kernels array: note each record's nesting depth as it is pushed.
      const records = state.activeProfile.kernels;
      const push = records.push;
      records.push = function pushWithDepth(this: unknown[], ...items: unknown[]): number {
        for (let i = 0; i < items.length; i++) depths.push(state.kernelDepth);
        return push.apply(this, items);
      };
      return await withCallInfo(calls, () => records, f);
    });
  } catch (e) {
    // tf.profile turns profiling off only when its function returns: after a throw every later kernel in the
    // process would still be timed (a sync per kernel on cpu and on webgl without timer queries) and its record kept.
    state.profiling = false;
    state.activeProfile.kernels = [];
    throw e;
  }
  tf.dispose(info.result);
  const warnings = warning != null ? [warning] : [];
  let nested = 0;
  let errors = 0;
  // Records arrive inner-first: a record at depth d adopts the pending records of depth d + 1.
  const pending: KernelRecord[][] = [];
  info.kernels.forEach((k, i) => {
    const depth = depths[i] ?? 0;
    if (depth > 0) nested++;
    const t = k.kernelTimeMs as number | { error: string };
    // A time that is no duration (NaN, or negative: tfjs-backend-webgpu subtracts two timestamps as BigInts) is no
    // time: kept, one NaN would make the model's total NaN and one negative would shrink it.
    const timeMs = typeof t === 'number' && Number.isFinite(t) && t >= 0 ? t : null;
    if (timeMs == null && depth === 0) errors++;
    const record: KernelRecord = {
      name: k.name,
      inputShapes: k.inputShapes.map((s) => (s == null ? null : [...s])),
      outputShapes: k.outputShapes.map((s) => [...s]),
      timeMs,
      extraInfo: typeof k.extraInfo === 'string' ? k.extraInfo : '',
      nested: pending[depth + 1] ?? [],
      inputDataIds: calls.get(k)?.ids ?? [],
    };
    const attrs = calls.get(k)?.attrs;
    if (attrs != null) record.attrs = attrs;
    pending[depth + 1] = [];
    (pending[depth] ??= []).push(record);
  });
  const kernels = pending[0] ?? [];
  // GPU timers of an outer record cover only the programs it dispatched itself (tfjs drops the nested
  // timers when flattening), while a wall-clock time already includes the inner kernels.
  if (timing === 'gpu-timestamp' || timing === 'gpu-timer-query') kernels.forEach(addNestedGpuTime);
  if (errors > 0) warnings.push(`${backend}: ${errors} kernel(s) reported no time (counted as 0)`);
  return { backend, timing, kernels, nestedKernels: nested, warnings };
}
