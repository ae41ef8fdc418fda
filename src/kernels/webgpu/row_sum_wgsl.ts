/**
 * The workgroup tree reduction FusedLayerNorm and FusedClassifierHead share: `rowSum(lid, lane, value)` sums
 * `value` over the `threadsPerRow` consecutive threads of a row (lane = lid % threadsPerRow, a power of two) through
 * workgroup memory `partial`, with halving strides unrolled. Every thread must call it (its barriers need uniform
 * control flow); the closing barrier lets a later call reuse `partial`.
 */

/** Halving strides n / 2, n / 4, ..., 1 of a tree reduction over n (a power of two) values. */
export function halvingStrides(n: number): number[] {
  const out: number[] = [];
  for (let s = n / 2; s >= 1; s /= 2) out.push(s);
  return out;
}

/** WGSL: `partial` (workgroupSize floats) and `fn rowSum`. */
export function wgslRowSum(threadsPerRow: number, workgroupSize: number): string {
  return `
var<workgroup> partial: array<f32, ${workgroupSize}>;

// The sum of value over the ${threadsPerRow} threads of this thread's row (all threads reach every barrier).
fn rowSum(lid: i32, lane: i32, value: f32) -> f32 {
  partial[lid] = value;
  workgroupBarrier();
${halvingStrides(threadsPerRow).map((s) => `  if (lane < ${s}) { partial[lid] += partial[lid + ${s}]; }
  workgroupBarrier();`).join('\n')}
  let total = partial[lid - lane];
  workgroupBarrier(); // everyone has read it before the next rowSum overwrites partial
  return total;
}`;
}
