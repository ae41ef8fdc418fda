/** Page entry for the headless runner's own test: echoes its args and reports the page's GPU APIs. */
(globalThis as unknown as { __run: (a: unknown) => Promise<unknown> }).__run = async (args: unknown) => {
  const canvas = document.createElement('canvas');
  const cpu = (globalThis as unknown as { __browserCpuMs?: () => Promise<number> }).__browserCpuMs;
  return { echo: args, webgl2: canvas.getContext('webgl2') != null, cpuMs: cpu ? await cpu() : null };
};
