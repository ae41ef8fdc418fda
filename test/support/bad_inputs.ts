/** Shared check for ops' bad-input cases: [what, call, expected message]. */
import * as tf from '@tensorflow/tfjs-core';

export type BadInput = [what: string, call: () => unknown, message: RegExp];

/** Each bad input throws its message, and nothing the op made survives (inputs are made inside tidy). */
export function checkBadInputs(cases: BadInput[]): void {
  for (const [what, call, message] of cases) {
    const before = tf.memory().numTensors;
    let error: unknown;
    tf.tidy(() => {
      try { call(); } catch (e) { error = e; }
    });
    if (!(error instanceof Error)) throw new Error(`${what}: no Error thrown`);
    if (!message.test(error.message)) throw new Error(`${what}: message "${error.message}" does not match ${message}`);
    if (tf.memory().numTensors !== before) throw new Error(`${what}: leaked ${tf.memory().numTensors - before} tensors`);
  }
}
