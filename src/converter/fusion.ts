/**
 * Fusion passes: find residual blocks by graph structure (patterns.ts) and rewrite each into one
 * FusedConvNeXtBlock / FusedConvFirstBlock node with inputs in the op's order (block_spec.ts) and the
 * op's attrs; then the LayerNorms left outside blocks into FusedLayerNorm nodes (layer_norm_fusion.ts), then
 * the classifier head (pool + LayerNorm + dense) into one FusedClassifierHead node (classifier_head_fusion.ts), then
 * stride-k k x k convs into FusedPatchConv nodes absorbing a LayerNorm right before them (patch_conv_fusion.ts).
 * A block is only rewritten when every node it absorbs is read by the block alone, so the
 * rest of the graph never loses a value. Matched weights are re-laid-out exactly (transposes and copies,
 * no arithmetic), and keep the precision their source constants were stored in.
 */
import {
  type BlockSpec, convfirstSpec, convnextSpec, FUSED_CONVFIRST_BLOCK, FUSED_CONVNEXT_BLOCK,
} from '../spec/block_spec.js';
import { attr, type ConstTensor, Graph, type IRNode } from './ir.js';
import { type FusedClassifierHeadNode, fuseClassifierHeadsInPlace } from './classifier_head_fusion.js';
import { type FusedLayerNormNode, fuseLayerNormsInPlace } from './layer_norm_fusion.js';
import { type FusedPatchConvNode, fusePatchConvsInPlace } from './patch_conv_fusion.js';
import {
  channelVector, GraphView, isAdd, Match, matchActivation, matchLayerNorm, matchLinear, matchSpatialConv, scalarValue, splitConst,
} from './patterns.js';

export interface FusedBlock {
  kind: 'convnext' | 'convfirst';
  /** Name of the fused node in the output graph. */
  node: string;
  spec: BlockSpec;
}

export interface FusionResult {
  graph: Graph;
  blocks: FusedBlock[];
  /**
   * Standalone LayerNorms rewritten to FusedLayerNorm and left as such (empty with `layerNorms: false`);
   * those folded into a patch conv are listed there instead.
   */
  layerNorms: FusedLayerNormNode[];
  /** Patch convs rewritten to FusedPatchConv (empty with `patchConvs: false`). */
  patchConvs: FusedPatchConvNode[];
  /** Classifier heads rewritten to FusedClassifierHead (empty with `classifierHead: false`). */
  classifierHeads: FusedClassifierHeadNode[];
  counts: { convnext: number; convfirst: number; layerNorm: number; patchConv: number; classifierHead: number };
}

export interface FusionOptions {
  /** Also rewrite the LayerNorms left outside blocks (default true). */
  layerNorms?: boolean;
  /** Also rewrite stride-k k x k convs (stem, downsample layers) to FusedPatchConv (default true). */
  patchConvs?: boolean;
  /** Also rewrite pool + LayerNorm + dense heads to FusedClassifierHead (default true; needs the LayerNorm pass). */
  classifierHead?: boolean;
  /** Fold a LayerNorm that follows a patch conv (the stem's) into it as its post-norm (default true). */
  patchConvPostNorms?: boolean;
}

interface Candidate {
  kind: FusedBlock['kind'];
  residual: IRNode;
  x: string;
  match: Match;
  inputs: { name: string; tensor: ConstTensor }[];
  attrs: IRNode['attrs'];
  spec: BlockSpec;
}

const f32 = (shape: number[], data: Float32Array, precision?: ConstTensor['precision']): ConstTensor =>
  ({ dtype: 'float32', shape, data, ...(precision && precision !== 'float32' ? { precision } : {}) });

function matchConvNeXt(v: GraphView, residual: IRNode, x: string, branch: string): Candidate | undefined {
  const m = new Match();
  let mlpOut = branch;
  let layerScale: Float32Array | number | undefined;
  let lsPrecision: ConstTensor['precision'];
  const lsMul = v.node(branch, 'Mul');
  const lsParts = lsMul && splitConst(v, lsMul);
  // per channel ([C], [1,1,1,C]), or one scalar: broadcast over the channels below, the same products
  const lsValue = lsParts && (scalarValue(lsParts[1]) ?? channelVector(lsParts[1]));
  if (lsMul && lsParts && lsValue != null) {
    layerScale = lsValue;
    lsPrecision = lsParts[1].precision;
    mlpOut = lsParts[0];
    m.add(lsMul);
  }
  const fc2 = matchLinear(v, m, mlpOut);
  const act = fc2 && matchActivation(v, m, fc2.input);
  const fc1 = act && matchLinear(v, m, act.input, act.fusedIntoLinear);
  const ln = fc1 && matchLayerNorm(v, m, fc1.input);
  const dw = ln && matchSpatialConv(v, m, ln.input);
  if (!fc2 || !act || !fc1 || !ln || !dw || dw.input !== x || dw.groupWidth !== 1) return undefined;
  const c = dw.channels;
  const d = fc1.cout;
  if (typeof layerScale === 'number') layerScale = new Float32Array(c).fill(layerScale);
  if (ln.gamma.length !== c || fc1.cin !== c || fc2.cin !== d || fc2.cout !== c || (layerScale && layerScale.length !== c)) {
    return undefined;
  }
  const attrs = { epsilon: ln.epsilon, activation: act.activation };
  const inputs = [
    { name: 'dw_filter', tensor: f32([dw.k, dw.k, c, 1], dw.filter, dw.precision) },
    { name: 'dw_bias', tensor: f32([c], dw.bias, dw.precision) },
    { name: 'ln_gamma', tensor: f32([c], ln.gamma, ln.precision) },
    { name: 'ln_beta', tensor: f32([c], ln.beta, ln.precision) },
    { name: 'w1', tensor: f32([c, d], fc1.weight, fc1.precision) },
    { name: 'b1', tensor: f32([d], fc1.bias, fc1.precision) },
    { name: 'w2', tensor: f32([d, c], fc2.weight, fc2.precision) },
    { name: 'b2', tensor: f32([c], fc2.bias, fc2.precision) },
    ...(layerScale ? [{ name: 'layer_scale', tensor: f32([c], layerScale, lsPrecision) }] : []),
  ];
  m.add(residual);
  return {
    kind: 'convnext', residual, x, match: m, inputs,
    attrs: { epsilon: attr.f(attrs.epsilon), activation: attr.s(attrs.activation) },
    spec: convnextSpec([1, 1, 1, c], [c, d], [dw.k, dw.k, c, 1], attrs, layerScale != null),
  };
}

function matchConvFirst(v: GraphView, residual: IRNode, x: string, branch: string): Candidate | undefined {
  const m = new Match();
  const fc2 = matchLinear(v, m, branch);
  const act = fc2 && matchActivation(v, m, fc2.input);
  const fc1 = act && matchLinear(v, m, act.input, act.fusedIntoLinear);
  const conv = fc1 && matchSpatialConv(v, m, fc1.input);
  if (!fc2 || !act || !fc1 || !conv || conv.input !== x) return undefined;
  const c = conv.channels;
  const d = fc1.cout;
  if (fc1.cin !== c || fc2.cin !== d || fc2.cout !== c || c % conv.groupWidth !== 0) return undefined;
  const g = conv.groupWidth;
  const attrs = { activation: act.activation, residual: true };
  const inputs = [
    { name: 'filter', tensor: f32([conv.k, conv.k, g, c], conv.filter, conv.precision) },
    { name: 'bias', tensor: f32([c], conv.bias, conv.precision) },
    { name: 'w1', tensor: f32([c, d], fc1.weight, fc1.precision) },
    { name: 'b1', tensor: f32([d], fc1.bias, fc1.precision) },
    { name: 'w2', tensor: f32([d, c], fc2.weight, fc2.precision) },
    { name: 'b2', tensor: f32([c], fc2.bias, fc2.precision) },
  ];
  m.add(residual);
  return {
    kind: 'convfirst', residual, x, match: m, inputs,
    attrs: { activation: attr.s(attrs.activation), residual: attr.b(true) },
    spec: convfirstSpec([1, 1, 1, c], [c, d], [conv.k, conv.k, g, c], attrs),
  };
}

/** Every node of the match (except the residual Add) is read only by nodes of the match. */
function isPrivate(v: GraphView, c: Candidate): boolean {
  for (const n of c.match.nodes) {
    if (n === c.residual) continue;
    if (v.outputs.has(n.name)) return false;
    for (const reader of v.consumers.get(n.name) ?? []) if (!c.match.nodes.has(reader)) return false;
  }
  return true;
}

/**
 * Finds every ConvNeXt / ConvFirst residual block of `graph` (unchanged) and, after them, every standalone
 * LayerNorm; returns a fused copy.
 */
export function fuseBlocks(graph: Graph, options: FusionOptions = {}): FusionResult {
  const g = graph.clone();
  const v = new GraphView(g);
  const candidates: Candidate[] = [];
  const claimed = new Set<IRNode>();
  for (const n of g.nodes) {
    if (!isAdd(n) || n.inputs.length !== 2) continue;
    for (const [x, branch] of [[n.inputs[0], n.inputs[1]], [n.inputs[1], n.inputs[0]]]) {
      const c = matchConvNeXt(v, n, x, branch) ?? matchConvFirst(v, n, x, branch);
      if (c && isPrivate(v, c) && ![...c.match.nodes].some((m) => claimed.has(m))) {
        c.match.nodes.forEach((m) => claimed.add(m));
        candidates.push(c);
        break;
      }
    }
  }
  const blocks: FusedBlock[] = [];
  const renamed = new Map<string, string>();
  for (const c of candidates) {
    const opName = c.kind === 'convnext' ? FUSED_CONVNEXT_BLOCK : FUSED_CONVFIRST_BLOCK;
    const base = c.residual.name;
    const weights = c.inputs.map((i) => g.addConst(`${base}/${i.name}`, i.tensor));
    const fusedName = g.uniqueName(`${base}/${c.kind}_block`);
    // Replace the residual Add in place: keeps topological order and the downstream edges.
    const fused: IRNode = { name: fusedName, op: opName, inputs: [renamed.get(c.x) ?? c.x, ...weights], attrs: c.attrs };
    g.nodes[g.nodes.indexOf(c.residual)] = fused;
    g.replaceUses(c.residual.name, fusedName);
    renamed.set(c.residual.name, fusedName);
    blocks.push({ kind: c.kind, node: fusedName, spec: c.spec });
  }
  g.removeDead();
  g.topoSort();
  // After the blocks, so each block keeps its own LayerNorm.
  const allLayerNorms = options.layerNorms === false ? [] : fuseLayerNormsInPlace(g);
  // After the LayerNorms: the head's LayerNorm is then one FusedLayerNorm node.
  const classifierHeads = options.classifierHead === false ? [] : fuseClassifierHeadsInPlace(g);
  // After the LayerNorms, so a downsample layer's FusedLayerNorm becomes its patch conv's pre-norm (the stem's its
  // post-norm).
  const patchConvs = options.patchConvs === false ? [] :
    fusePatchConvsInPlace(g, { postNorms: options.patchConvPostNorms !== false });
  const folded = new Set([...patchConvs.flatMap((p) => [p.preNorm, p.postNorm]),
    ...classifierHeads.map((h) => h.layerNorm)]);
  const layerNorms = allLayerNorms.filter((ln) => !folded.has(ln.node));
  return {
    graph: g,
    blocks,
    layerNorms,
    patchConvs,
    classifierHeads,
    counts: { convnext: blocks.filter((b) => b.kind === 'convnext').length,
      convfirst: blocks.filter((b) => b.kind === 'convfirst').length, layerNorm: layerNorms.length,
      patchConv: patchConvs.length, classifierHead: classifierHeads.length },
  };
}
