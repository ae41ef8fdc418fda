import type { Activation } from './activations.js';

/** Kernel names, also used as GraphModel op names by the converter. */
export const FUSED_CONVNEXT_BLOCK = 'FusedConvNeXtBlock';
export const FUSED_CONVFIRST_BLOCK = 'FusedConvFirstBlock';
/** A standalone LayerNorm over the last axis (stem, downsample layers, head); see src/spec/layer_norm.ts. */
export const FUSED_LAYER_NORM = 'FusedLayerNorm';

export type BlockKind = 'convnext' | 'convfirst';

/**
 * One description of a fused residual block's math, derived once from op attributes and input shapes.
 * Every consumer (reference, WGSL and GLSL generators, cost model, converter) reads this.
 *
 *   y = (residual ? x : 0) + scale * (W2^T act(W1^T norm(conv_k,G(x) + convBias) + b1) + b2)
 */
export interface BlockSpec {
  kind: BlockKind;
  /** Spatial kernel size (odd), stride 1, 'same' zero padding. */
  k: number;
  /** Input channels per group of the spatial conv: 1 is depthwise. */
  groupWidth: number;
  /** Block channels (input = output). */
  channels: number;
  /** Hidden width of the MLP. */
  hidden: number;
  norm: 'layernorm' | 'none';
  activation: Activation;
  layerScale: boolean;
  residual: boolean;
  /** LayerNorm epsilon (unused when norm is 'none'). */
  epsilon: number;
}

/** Names of a ConvNeXt block's kernel inputs, in the order the op passes them (layerScale optional, last). */
export const CONVNEXT_INPUTS = [
  'x', 'dwFilter', 'dwBias', 'lnGamma', 'lnBeta', 'w1', 'b1', 'w2', 'b2', 'layerScale',
] as const;
/** Names of a ConvFirst block's kernel inputs, in op order. */
export const CONVFIRST_INPUTS = ['x', 'filter', 'bias', 'w1', 'b1', 'w2', 'b2'] as const;

export interface ConvNeXtAttrs {
  epsilon: number;
  activation: Activation;
}
export interface ConvFirstAttrs {
  activation: Activation;
  residual: boolean;
}

export function convnextSpec(xShape: readonly number[], w1Shape: readonly number[], dwShape: readonly number[],
  attrs: ConvNeXtAttrs, hasLayerScale: boolean): BlockSpec {
  return {
    kind: 'convnext', k: dwShape[0], groupWidth: 1, channels: xShape[3], hidden: w1Shape[1],
    norm: 'layernorm', activation: attrs.activation, layerScale: hasLayerScale, residual: true,
    epsilon: attrs.epsilon,
  };
}

export function convfirstSpec(xShape: readonly number[], w1Shape: readonly number[], filterShape: readonly number[],
  attrs: ConvFirstAttrs): BlockSpec {
  return {
    kind: 'convfirst', k: filterShape[0], groupWidth: filterShape[2], channels: xShape[3], hidden: w1Shape[1],
    norm: 'none', activation: attrs.activation, layerScale: false, residual: attrs.residual, epsilon: 0,
  };
}

/** A short stable string naming the spec, for shader keys and reports. */
export function specKey(s: BlockSpec): string {
  return `${s.kind}_k${s.k}_g${s.groupWidth}_c${s.channels}_d${s.hidden}_${s.norm}_${s.activation}` +
    `_ls${+s.layerScale}_r${+s.residual}_e${s.epsilon}`;
}
