/**
 * The classifier head pass: global average pool + LayerNorm + dense + bias becomes one FusedClassifierHead
 * node [x, gamma, beta, weight, bias] {epsilon}. Runs after the LayerNorm pass (the head's LayerNorm is then
 * one FusedLayerNorm node). Matched forms, each intermediate read only by the next node:
 *   Mean(x, axes {1, 2}, keep_dims false) -> FusedLayerNorm over C -> MatMul(., W [C, K]) -> BiasAdd / Add /
 *     AddV2 with a [K] constant, or _FusedMatMul(., W, b) with only a BiasAdd fused in (tensorflowjs_converter's
 *     form; Keras, HF transformers exports, models/);
 *   Mean(x, axes {1, 2}, keep_dims true) -> FusedLayerNorm -> Reshape(s) to [N, C] (each target [?, ...] with
 *     C values per image, e.g. [-1, C, 1, 1] then [-1, C]: the torchvision / timm ONNX exports) -> MatMul -> add.
 * The dynamo ONNX exports gather and transpose the pooled tensor before the LayerNorm; they are not matched
 * (docs/classifier_head.md). Transposed MatMuls are not matched either. Weights are reused exactly.
 */
import { FUSED_LAYER_NORM } from '../spec/block_spec.js';
import { FUSED_CLASSIFIER_HEAD } from '../spec/classifier_head.js';
import { attrBool, attrFloat, attrStr, type Graph, type IRNode } from './ir.js';
import { channelVector, GraphView, splitConst } from './patterns.js';

export interface FusedClassifierHeadNode {
  /** Name of the FusedClassifierHead node in the output graph. */
  node: string;
  channels: number;
  classes: number;
  /** The FusedLayerNorm node absorbed (it is gone from the output graph). */
  layerNorm: string;
}

const ADD_OPS = new Set(['BiasAdd', 'Add', 'AddV2']);

function plainMatMul(n: IRNode): boolean {
  return attrBool(n, 'transpose_a') !== true && attrBool(n, 'transpose_b') !== true;
}

/** A Reshape target [b, d1, ...] with no inferred dim after the batch and C values per image. */
function perImageReshape(v: GraphView, n: IRNode, c: number): boolean {
  const shape = v.constant(n.inputs[1]);
  if (shape == null || shape.dtype !== 'int32' || shape.shape.length !== 1 || shape.data.length < 2) return false;
  const rest = Array.from(shape.data).slice(1);
  return rest.every((d) => d > 0) && rest.reduce((a, b) => a * b, 1) === c;
}

interface HeadMatch { output: IRNode; x: string; gamma: string; beta: string; weight: string; bias: string;
  layerNorm: IRNode; channels: number; classes: number }

/** The head ending at `output` (an add after MatMul, or _FusedMatMul), if it has one of the matched forms. */
function matchHead(v: GraphView, output: IRNode): HeadMatch | undefined {
  let matmul: IRNode | undefined;
  let bias: string | undefined;
  if (output.op === '_FusedMatMul') {
    const ops = output.attrs.fused_ops;
    const fused = ops != null && 'list' in ops ? ops.list.s : undefined;
    if (output.inputs.length !== 3 || JSON.stringify(fused) !== '["BiasAdd"]') return undefined;
    matmul = output;
    bias = output.inputs[2];
  } else if (ADD_OPS.has(output.op) && output.inputs.length === 2) {
    const parts = splitConst(v, output);
    matmul = parts && v.node(parts[0], 'MatMul');
    if (matmul == null || v.uses(matmul.name) !== 1) return undefined;
    bias = output.inputs.find((i) => i !== matmul!.name);
  }
  if (matmul == null || bias == null || !plainMatMul(matmul) || matmul.inputs.length < 2) return undefined;
  if (output.op === 'BiasAdd' && (attrStr(output, 'data_format') ?? 'NHWC') !== 'NHWC') return undefined;
  const w = v.constant(matmul.inputs[1]);
  if (w == null || w.dtype !== 'float32' || w.shape.length !== 2) return undefined;
  const [c, k] = w.shape;
  if (channelVector(v.constant(bias), k) == null) return undefined;
  // Reshapes to [N, C] between the LayerNorm and the MatMul (the keep_dims form).
  let z = matmul.inputs[0];
  let reshapes = 0;
  for (let r = v.node(z, 'Reshape'); r != null; r = v.node(z, 'Reshape')) {
    if (v.uses(z) !== 1 || !perImageReshape(v, r, c)) return undefined;
    z = r.inputs[0];
    reshapes++;
  }
  if (reshapes > 0) {
    const last = v.constant(v.node(matmul.inputs[0])!.inputs[1])!;
    if (last.data.length !== 2) return undefined;
  }
  const ln = v.node(z, FUSED_LAYER_NORM);
  const gamma = ln && v.constant(ln.inputs[1]);
  if (ln == null || v.uses(z) !== 1 || attrFloat(ln, 'epsilon') == null || gamma == null || gamma.shape.length !== 1 || gamma.shape[0] !== c) {
    return undefined;
  }
  const mean = v.node(ln.inputs[0], 'Mean');
  const axes = mean && v.constant(mean.inputs[1]);
  if (mean == null || axes == null || v.uses(mean.name) !== 1) return undefined;
  if ([...axes.data].sort().join() !== '1,2') return undefined;
  if ((attrBool(mean, 'keep_dims') === true) !== (reshapes > 0)) return undefined;
  return { output, x: mean.inputs[0], gamma: ln.inputs[1], beta: ln.inputs[2], weight: matmul.inputs[1], bias,
    layerNorm: ln, channels: c, classes: k };
}

/** Rewrites every classifier head of `g` in place (after fuseLayerNormsInPlace); returns the new nodes. */
export function fuseClassifierHeadsInPlace(g: Graph): FusedClassifierHeadNode[] {
  const v = new GraphView(g);
  const found: FusedClassifierHeadNode[] = [];
  for (const output of [...g.nodes]) {
    if (output.op !== '_FusedMatMul' && !ADD_OPS.has(output.op)) continue;
    const m = matchHead(v, output);
    if (m == null) continue;
    // The op takes bias [K]: a [1, K] constant is copied to that shape (same values).
    const b = v.constant(m.bias)!;
    const bias = b.shape.length === 1 ? m.bias : g.addConst(`${output.name}/bias`, { ...b, shape: [m.classes] });
    const name = g.uniqueName(`${output.name}/classifier_head`);
    // Replace the output node in place: keeps topological order and the downstream edges.
    g.nodes[g.nodes.indexOf(output)] = { name, op: FUSED_CLASSIFIER_HEAD,
      inputs: [m.x, m.gamma, m.beta, m.weight, bias], attrs: { epsilon: m.layerNorm.attrs.epsilon } };
    g.replaceUses(output.name, name);
    found.push({ node: name, channels: m.channels, classes: m.classes, layerNorm: m.layerNorm.name });
  }
  g.removeDead();
  g.topoSort();
  return found;
}
