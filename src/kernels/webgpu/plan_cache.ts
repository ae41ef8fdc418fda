/**
 * A bounded memo for kernel plans: plans are pure functions of their key (shapes, limits, the override version),
 * and a network calls the same few shapes every inference, so a cached call's CPU side is a map lookup instead of
 * a tiling search. Cleared whole when full (a network never comes near the limit; a sweep may).
 */
export function planCache<T>(limit: number): (key: string, plan: () => T) => T {
  const entries = new Map<string, T>();
  return (key, plan) => {
    let found = entries.get(key);
    if (found === undefined) {
      if (entries.size >= limit) entries.clear();
      found = plan();
      entries.set(key, found);
    }
    return found;
  };
}

/** The adapter limits' part of a plan key. */
export function limitsKey(limits: { maxComputeWorkgroupStorageSize: number; maxComputeInvocationsPerWorkgroup: number;
  maxStorageBufferBindingSize?: number }): string {
  return `${limits.maxComputeWorkgroupStorageSize},${limits.maxComputeInvocationsPerWorkgroup},${limits.maxStorageBufferBindingSize}`;
}
