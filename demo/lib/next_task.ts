/**
 * Resolves in a new task, so that the page can paint and handle input (a Stop click) between inferences: on
 * cpu an inference's `await data()` settles in microtasks and a whole timing loop would otherwise hold the
 * page. A message, not setTimeout(0), which browsers clamp to 4 ms once nested.
 */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();  // an open port would keep Node's event loop alive
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/** Lets the page paint and a Stop click land (a new task), then honours that stop (throws the signal's reason). */
export async function yieldToPage(signal: AbortSignal | undefined): Promise<void> {
  await nextTask();
  signal?.throwIfAborted();
}
