/**
 * Dispatch 2 of every split-reduction ("split-K") kernel: the fused block's split-hidden variant
 * (block_wgsl.ts) and the patch conv's split-K (patch_conv_wgsl.ts). Dispatch 1 wrote S partial slabs
 * [S, P, V] (P output rows of V vectors); one thread per output vector sums them in a fixed order (so results
 * are deterministic), then the caller's epilogue (bias, residual) writes the output [.., .., .., V].
 */

/** Threads per workgroup of the sum (one output vector each). */
export const SPLIT_SUM_WORKGROUP = 64;

export interface SplitSumParams {
  splits: number;
  workgroupSize: number;
  /** Output vectors per row (V): channels / components. */
  rowVectors: number;
  /** Output value from `sum`; may use `pix` (the row, N H W flattened), `cv` (the vector in the row) and `e`. */
  epilogue: (sum: string) => string;
}

/**
 * The start of a one-thread-per-output-vector `main` (this sum, the patch conv's normalizing sum): `e` the output
 * vector, `pix` its row (N H W flattened), `cv` the vector in the row, `numPixels` the rows; threads past the end return.
 */
export function outputVectorPrologue(workgroupSize: number, rowVectors: number): string {
  return `
  let wg = i32(workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x);
  let e = wg * ${workgroupSize} + i32(localIndex);
  let numPixels = uniforms.outShape.x * uniforms.outShape.y * uniforms.outShape.z;
  if (e >= numPixels * ${rowVectors}) { return; }
  let pix = e / ${rowVectors};
  let cv = e % ${rowVectors};`;
}

/** The WGSL `main`: inputs `partials` and whatever the epilogue reads; rows from the output's N H W. */
export function splitSumSource({ splits, workgroupSize, rowVectors, epilogue }: SplitSumParams): string {
  return `
fn main(index: i32) {${outputVectorPrologue(workgroupSize, rowVectors)}
  var sum = partials[e];
  for (var s = 1; s < ${splits}; s++) { sum += partials[s * numPixels * ${rowVectors} + e]; }
  result[e] = ${epilogue('sum')};
}
`;
}
