/** The cpu backend as the commands use it. Node-only. */

/**
 * tfjs-backend-cpu prints "Hi, looks like you are running TensorFlow.js in Node.js ... install our node
 * backend" on its first tensor write. The CLIs chose the cpu backend on purpose, so make that first write
 * here with exactly this message filtered out; every other tfjs warning still prints (tf.enableProdMode()
 * or IS_TEST would silence them all).
 */
export async function quietCpuBackendBanner(): Promise<void> {
  const tf = await import('@tensorflow/tfjs-core');
  if (tf.getBackend() !== 'cpu') return;
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).includes('looks like you are running TensorFlow.js in Node.js')) warn(...args);
  };
  try {
    tf.tensor1d([0]).dispose();
  } finally {
    console.warn = warn;
  }
}
