/**
 * The standalone-LayerNorm pass: every LayerNorm composite left after block fusion (stem, downsample layers,
 * head) becomes one FusedLayerNorm node [x, gamma, beta] {epsilon}. It runs after the block pass so blocks
 * keep absorbing their own LayerNorm. Same rules as the block pass: only composites whose inner values are
 * read by the composite alone, weights copied exactly in their stored precision.
 */
import { FUSED_LAYER_NORM } from '../spec/block_spec.js';
import { attr, type ConstTensor, type Graph, type IRNode } from './ir.js';
import { GraphView, type LayerNormMatch, Match, matchLayerNorm } from './patterns.js';

export interface FusedLayerNormNode {
  /** Name of the FusedLayerNorm node in the output graph. */
  node: string;
  channels: number;
  epsilon: number;
}

const LN_OUTPUT_OPS = new Set(['AddV2', 'Add', 'BiasAdd', 'AddN']);

function channelConst(data: Float32Array, precision: ConstTensor['precision']): ConstTensor {
  return { dtype: 'float32', shape: [data.length], data, ...(precision && precision !== 'float32' ? { precision } : {}) };
}

/** Every node of the match but its output node is read only inside the match, and none is a graph output. */
function isPrivate(v: GraphView, m: Match, output: IRNode): boolean {
  for (const n of m.nodes) {
    if (n === output) continue;
    if (v.outputs.has(n.name)) return false;
    for (const reader of v.consumers.get(n.name) ?? []) if (!m.nodes.has(reader)) return false;
  }
  return true;
}

/**
 * A composite the op can take: epsilon > 0, and gamma / beta of one length C > 1 (a length-1 gamma may be
 * a scalar broadcast over a longer axis, which the IR's missing shapes cannot rule out).
 */
function fusable(ln: LayerNormMatch): boolean {
  return Number.isFinite(ln.epsilon) && ln.epsilon > 0 && ln.gamma.length === ln.beta.length && ln.gamma.length > 1;
}

/** Rewrites every standalone LayerNorm composite of `g` in place; returns the new nodes. */
export function fuseLayerNormsInPlace(g: Graph): FusedLayerNormNode[] {
  const v = new GraphView(g);
  const found: { output: IRNode; ln: LayerNormMatch }[] = [];
  const claimed = new Set<IRNode>();
  for (const n of g.nodes) {
    if (!LN_OUTPUT_OPS.has(n.op)) continue;
    const m = new Match();
    const ln = matchLayerNorm(v, m, n.name);
    if (ln == null || !fusable(ln) || !isPrivate(v, m, n) || [...m.nodes].some((x) => claimed.has(x))) continue;
    m.nodes.forEach((x) => claimed.add(x));
    found.push({ output: n, ln });
  }
  const fusedNodes: FusedLayerNormNode[] = [];
  const renamed = new Map<string, string>();
  for (const { output, ln } of found) {
    const base = output.name;
    const gamma = g.addConst(`${base}/gamma`, channelConst(ln.gamma, ln.precision));
    const beta = g.addConst(`${base}/beta`, channelConst(ln.beta, ln.precision));
    const name = g.uniqueName(`${base}/layer_norm`);
    // Replace the output node in place: keeps topological order and the downstream edges.
    g.nodes[g.nodes.indexOf(output)] = { name, op: FUSED_LAYER_NORM, inputs: [renamed.get(ln.input) ?? ln.input, gamma, beta],
      attrs: { epsilon: attr.f(ln.epsilon) } };
    g.replaceUses(base, name);
    renamed.set(base, name);
    fusedNodes.push({ node: name, channels: ln.gamma.length, epsilon: ln.epsilon });
  }
  g.removeDead();
  g.topoSort();
  return fusedNodes;
}
