/**
 * Lets `tf.loadGraphModel` run converted models: registers the fused op names (two blocks, LayerNorm, patch conv, classifier head) with
 * tfjs-converter's `registerOp`, each calling the package's op (which picks the fused kernel of the active backend).
 * Imported for its side effect by src/index.ts, so `import 'tfjs-block-fusion'` is all a web app needs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { registerOp } from '@tensorflow/tfjs-converter';
import { convfirstBlock } from '../../ops/convfirst_block.js';
import { convnextBlock } from '../../ops/convnext_block.js';
import { layerNorm } from '../../ops/layer_norm.js';
import { patchConv } from '../../ops/patch_conv.js';
import { classifierHead } from '../../ops/classifier_head.js';
import { FUSED_CLASSIFIER_HEAD } from '../spec/classifier_head.js';
import { isActivation } from '../spec/activations.js';
import { FUSED_CONVFIRST_BLOCK, FUSED_CONVNEXT_BLOCK, FUSED_LAYER_NORM } from '../spec/block_spec.js';
import { DEFAULT_LAYER_NORM_EPSILON } from '../spec/layer_norm.js';
import { FUSED_PATCH_CONV } from '../spec/patch_conv.js';

type OpNode = { inputs: tf.Tensor[]; attrs: Record<string, unknown> };

function activationAttr(op: string, node: OpNode, fallback: string) {
  // registerOp hands string attrs over lowercased, which is how the activation names are spelled.
  const a = String(node.attrs.activation ?? fallback).toLowerCase();
  if (!isActivation(a)) throw new Error(`${op}: unknown activation attr '${a}'`);
  return a;
}

/** A LayerNorm epsilon attr of a fused node (`epsilon`, the patch conv's `post_epsilon`): the default when absent. */
function epsilonAttr(node: OpNode, key: 'epsilon' | 'post_epsilon'): number {
  return node.attrs[key] == null ? DEFAULT_LAYER_NORM_EPSILON : Number(node.attrs[key]);
}

function convnextNode(node: OpNode): tf.Tensor {
  const [x, dwFilter, dwBias, lnGamma, lnBeta, w1, b1, w2, b2, layerScale] = node.inputs;
  const epsilon = epsilonAttr(node, 'epsilon');
  return tf.tidy(() => convnextBlock(x as tf.Tensor4D,
    { dwFilter, dwBias, lnGamma, lnBeta, w1, b1, w2, b2, ...(layerScale ? { layerScale } : {}) },
    { epsilon, activation: activationAttr(FUSED_CONVNEXT_BLOCK, node, 'gelu') }));
}

function convfirstNode(node: OpNode): tf.Tensor {
  const [x, filter, bias, w1, b1, w2, b2] = node.inputs;
  const residual = node.attrs.residual == null ? true : Boolean(node.attrs.residual);
  return tf.tidy(() => convfirstBlock(x as tf.Tensor4D, { filter, bias, w1, b1, w2, b2 },
    { activation: activationAttr(FUSED_CONVFIRST_BLOCK, node, 'silu'), residual }));
}

function layerNormNode(node: OpNode): tf.Tensor {
  const [x, gamma, beta] = node.inputs;
  const epsilon = epsilonAttr(node, 'epsilon');
  return tf.tidy(() => layerNorm(x, gamma, beta, { epsilon }));
}

function patchConvNode(node: OpNode): tf.Tensor {
  const hasBias = Boolean(node.attrs.has_bias);
  const preNorm = Boolean(node.attrs.pre_norm);
  const postNorm = Boolean(node.attrs.post_norm);
  const [x, filter, ...rest] = node.inputs;
  const bias = hasBias ? rest.shift() : null;
  const epsilon = epsilonAttr(node, 'epsilon');
  const postEpsilon = epsilonAttr(node, 'post_epsilon');
  const pre = preNorm ? rest.splice(0, 2) : null;
  return tf.tidy(() => patchConv(x as tf.Tensor4D, filter as tf.Tensor4D, bias, {
    ...(pre ? { preNorm: { gamma: pre[0], beta: pre[1], epsilon } } : {}),
    ...(postNorm ? { postNorm: { gamma: rest[0], beta: rest[1], epsilon: postEpsilon } } : {}) }));
}

function classifierHeadNode(node: OpNode): tf.Tensor {
  const [x, gamma, beta, weight, bias] = node.inputs;
  const epsilon = epsilonAttr(node, 'epsilon');
  return tf.tidy(() => classifierHead(x as tf.Tensor4D, gamma, beta, weight, bias, { epsilon }));
}

let registered = false;

/** Registers the fused ops with tfjs-converter (idempotent). */
export function registerFusedGraphOps(): void {
  if (registered) return;
  registered = true;
  registerOp(FUSED_CONVNEXT_BLOCK, (node) => convnextNode(node as unknown as OpNode));
  registerOp(FUSED_CONVFIRST_BLOCK, (node) => convfirstNode(node as unknown as OpNode));
  registerOp(FUSED_LAYER_NORM, (node) => layerNormNode(node as unknown as OpNode));
  registerOp(FUSED_PATCH_CONV, (node) => patchConvNode(node as unknown as OpNode));
  registerOp(FUSED_CLASSIFIER_HEAD, (node) => classifierHeadNode(node as unknown as OpNode));
}
