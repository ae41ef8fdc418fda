/**
 * The graph op names this package adds (the converter writes them, register_ops.ts registers them with
 * tfjs-converter): a converted model may contain any of them, and one that does is already fused.
 */
import { FUSED_CONVFIRST_BLOCK, FUSED_CONVNEXT_BLOCK, FUSED_LAYER_NORM } from '../spec/block_spec.js';
import { FUSED_CLASSIFIER_HEAD } from '../spec/classifier_head.js';
import { FUSED_PATCH_CONV } from '../spec/patch_conv.js';

export const FUSED_OPS: readonly string[] = [
  FUSED_CONVNEXT_BLOCK, FUSED_CONVFIRST_BLOCK, FUSED_LAYER_NORM, FUSED_PATCH_CONV, FUSED_CLASSIFIER_HEAD,
];

/** Op -> count of the fused ops in a graph's op counts (empty when there are none). */
export function fusedOpCounts(opCounts: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const op of FUSED_OPS) if (opCounts[op]) out[op] = opCounts[op];
  return out;
}
