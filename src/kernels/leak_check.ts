/**
 * Bookkeeping for the engine's IS_TEST leak check (engine.checkKernelForMemLeak): data ids a kernel creates beyond
 * its outputs count as leaks, except data moves between backends, tallied in `numDataMovesStack`. tfjs 4.22 pushes
 * a frame per kernel and never pops it, and the check reads the last frame: after a kernel ran nested kernels, it
 * reads the last nested kernel's frame, not its own.
 */
import * as tf from '@tensorflow/tfjs-core';

interface EngineInternals {
  backend: tf.KernelBackend;
  state: { numDataMovesStack: number[]; tensorInfo: WeakMap<object, { backend: tf.KernelBackend }> };
  moveData(backend: tf.KernelBackend, dataId: object): void;
}

const engine = () => tf.engine() as unknown as EngineInternals;

/** Reports `count` data ids that outlive the kernel on purpose the way the engine reports data moves. */
export function excuseFromLeakCheck(count: number): void {
  const stack = engine().state.numDataMovesStack;
  if (count > 0 && stack.length > 0) stack[stack.length - 1] += count;
}

/**
 * Runs a kernel body made of nested kernels (stock ops) on inputs some of which may live on another backend (made
 * before a tf.setBackend). The inputs are moved here first and the moves reported where the check reads them;
 * left to the nested kernels, each move would be counted in a nested frame and reported as this kernel's leak.
 */
export function withForeignInputsMoved<T>(inputs: tf.NamedTensorInfoMap, body: () => T): T {
  const e = engine();
  let moved = 0;
  for (const input of Object.values(inputs)) {
    const info = input == null ? undefined : e.state.tensorInfo.get(input.dataId);
    if (input != null && info != null && info.backend !== e.backend) {
      e.moveData(e.backend, input.dataId);
      moved++;
    }
  }
  if (moved === 0 || !tf.env().getBool('IS_TEST')) return body();
  // engine.moveData counted the moves in this kernel's own frame; carry them to the frame the check will read.
  const stack = e.state.numDataMovesStack;
  stack[stack.length - 1] -= moved;
  const out = body();
  excuseFromLeakCheck(moved);
  return out;
}
