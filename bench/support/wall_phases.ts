/**
 * Where an inference's wall time goes, for bench:models: upload (tensor creation + the backend's upload of
 * the input), predict (the GraphModel executor and every kernel's CPU side: encoding, bind groups, uniforms;
 * the GPU starts on the first submitted batch meanwhile) and read (`await data()`: the rest of the GPU work,
 * the map of the staging buffer and its copy out).
 */
import { Session } from 'node:inspector/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Phases { uploadMs: number; predictMs: number; readMs: number }

export function meanPhases(all: Phases[]): Phases {
  const mean = (k: keyof Phases) => all.reduce((a, p) => a + p[k], 0) / all.length;
  return { uploadMs: mean('uploadMs'), predictMs: mean('predictMs'), readMs: mean('readMs') };
}

/**
 * Runs `work` under V8's sampling profiler and writes DIR/NAME.cpuprofile (open in Chrome DevTools), so the
 * CPU side of the timed loop can be read function by function.
 */
export async function withCpuProfile<T>(dir: string | null, name: string, work: () => Promise<T>): Promise<T> {
  if (dir == null) return work();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}
