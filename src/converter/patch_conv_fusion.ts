/**
 * The patch conv pass: every Conv2D with a constant square filter [k, k, Cin, Cout], k >= 2, stride k,
 * VALID padding (or explicit zero pads), dilation 1, NHWC (plus a per-channel BiasAdd / Add read only by
 * it) becomes one FusedPatchConv node [x, filter, bias?] {has_bias, pre_norm, epsilon, post_norm, post_epsilon};
 * a FusedLayerNorm (from layer_norm_fusion.ts) over Cin whose output only this conv reads is folded in as its
 * pre-norm [.., gamma, beta] (the downsamples), and one over Cout that alone reads the conv's output as its
 * post-norm [.., postGamma, postBeta] (the stem). Runs after the LayerNorm pass. Weights are reused exactly.
 */
import { FUSED_LAYER_NORM } from '../spec/block_spec.js';
import { FUSED_PATCH_CONV } from '../spec/patch_conv.js';
import { attrFloat, attrInts, attrStr, type Graph, type IRNode } from './ir.js';
import { patchConvNodeAttrs } from './ir_builder.js';
import { channelVector, GraphView, splitConst } from './patterns.js';

export interface FusedPatchConvNode {
  /** Name of the FusedPatchConv node in the output graph. */
  node: string;
  k: number;
  cin: number;
  cout: number;
  /** The FusedLayerNorm node folded in as the pre-norm, if any (it is gone from the output graph). */
  preNorm?: string;
  /** The FusedLayerNorm node folded in as the post-norm, if any (gone too: its readers read this node). */
  postNorm?: string;
}

function attrStrs(n: IRNode, key: string): string[] | undefined {
  const a = n.attrs[key];
  return a != null && 'list' in a ? a.list.s : undefined;
}

/** The node that alone reads `value`, which is not a graph output either; else undefined. */
function soleReader(v: GraphView, value: string): IRNode | undefined {
  return v.uses(value) === 1 ? v.consumers.get(value)?.[0] : undefined;
}

/** `ln` when it is a FusedLayerNorm over `channels`: a constant gamma [channels] and an epsilon attr. */
function layerNormOver(v: GraphView, ln: IRNode | undefined, channels: number): IRNode | undefined {
  const gamma = ln?.op === FUSED_LAYER_NORM ? v.constant(ln.inputs[1]) : undefined;
  return ln && gamma && gamma.shape.length === 1 && gamma.shape[0] === channels && attrFloat(ln, 'epsilon') != null ?
    ln : undefined;
}

/** stride k, dilation 1, VALID (or all-zero explicit) padding, NHWC. */
function isPatchConv(n: IRNode, k: number): boolean {
  const strides = attrInts(n, 'strides') ?? [1, 1, 1, 1];
  const dil = attrInts(n, 'dilations') ?? [1, 1, 1, 1];
  const fmt = attrStr(n, 'data_format');
  if (fmt != null && fmt !== 'NHWC') return false;
  if (strides.length !== 4 || strides[0] !== 1 || strides[1] !== k || strides[2] !== k || strides[3] !== 1) return false;
  if (!dil.every((d) => d === 1)) return false;
  const pad = attrStr(n, 'padding');
  if (pad === 'VALID') return true;
  return pad === 'EXPLICIT' && (attrInts(n, 'explicit_paddings') ?? []).every((p) => p === 0);
}

/**
 * Rewrites every patch conv of `g` in place (after fuseLayerNormsInPlace); returns the new nodes. `postNorms: false`
 * leaves LayerNorms after the convs standalone.
 */
export function fusePatchConvsInPlace(g: Graph, options: { postNorms?: boolean } = {}): FusedPatchConvNode[] {
  const v = new GraphView(g);
  const found: FusedPatchConvNode[] = [];
  const renamed = new Map<string, string>();
  const rename = (value: string) => renamed.get(value) ?? value;
  for (const conv of [...g.nodes]) {
    // Conv2D, or tfjs-converter's _FusedConv2D with only a bias fused in.
    const fusedBias = conv.op === '_FusedConv2D' && conv.inputs.length === 3 &&
      JSON.stringify(attrStrs(conv, 'fused_ops')) === '["BiasAdd"]';
    if (!(conv.op === 'Conv2D' && conv.inputs.length === 2) && !fusedBias) continue;
    const f = v.constant(conv.inputs[1]);
    if (f == null || f.dtype !== 'float32' || f.shape.length !== 4 || f.shape[0] !== f.shape[1]) continue;
    const [k, , cin, cout] = f.shape;
    if (k < 2 || !isPatchConv(conv, k)) continue;
    // The bias: a per-channel constant added to the conv, which nothing else reads.
    let output: IRNode = conv;
    let bias: string | undefined = fusedBias && channelVector(v.constant(conv.inputs[2]), cout) ? conv.inputs[2] : undefined;
    if (fusedBias && bias == null) continue;
    const add = fusedBias ? undefined : soleReader(v, conv.name);
    if (add && ['BiasAdd', 'AddV2', 'Add'].includes(add.op)) {
      const parts = splitConst(v, add);
      if (parts && parts[0] === conv.name && channelVector(parts[1], cout) != null) {
        output = add;
        bias = add.inputs.find((i) => i !== conv.name);
      }
    }
    // The pre-norm: a FusedLayerNorm over Cin read only by this conv.
    let x = conv.inputs[0];
    let preNorm: IRNode | undefined;
    const ln = layerNormOver(v, v.node(x, FUSED_LAYER_NORM), cin);
    if (ln && v.uses(ln.name) === 1) {
      preNorm = ln;
      x = ln.inputs[0];
    }
    // The post-norm: a FusedLayerNorm over Cout that alone reads the conv's output (not a graph output itself).
    const post = options.postNorms === false ? undefined : soleReader(v, output.name);
    const postNorm = post?.inputs[0] === output.name ? layerNormOver(v, post, cout) : undefined;
    const name = g.uniqueName(`${output.name}/patch_conv`);
    const attrs = patchConvNodeAttrs(bias != null, preNorm ? attrFloat(preNorm, 'epsilon') : undefined,
      postNorm ? attrFloat(postNorm, 'epsilon') : undefined);
    const inputs = [rename(x), conv.inputs[1], ...(bias ? [bias] : []), ...(preNorm ? preNorm.inputs.slice(1, 3) : []),
      ...(postNorm ? postNorm.inputs.slice(1, 3) : [])];
    // Replace the output node in place: keeps topological order and the downstream edges (the post-norm's too).
    g.nodes[g.nodes.indexOf(output)] = { name, op: FUSED_PATCH_CONV, inputs, attrs };
    g.replaceUses(output.name, name);
    renamed.set(output.name, name);
    if (postNorm) {
      g.replaceUses(postNorm.name, name);
      renamed.set(postNorm.name, name);
    }
    found.push({ node: name, k, cin, cout, ...(preNorm ? { preNorm: preNorm.name } : {}),
      ...(postNorm ? { postNorm: postNorm.name } : {}) });
  }
  g.removeDead();
  g.topoSort();
  return found;
}
