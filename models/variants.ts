/**
 * Architecture tables. ConvNeXt depths and widths are timm's (timm/models/convnext.py: atto, femto, pico and
 * nano are timm's own variants; tiny, small and base are the paper's). ConvFirstNet mirrors them one to one:
 * the paper names ConvFirstNet but gives no per-variant table, so these choices are ours (docs/models.md).
 */
import type { Activation } from '../src/spec/activations.js';

export const MODEL_FAMILIES = ['convnext', 'convfirst'] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];

export const VARIANTS = ['atto', 'femto', 'pico', 'nano', 'tiny', 'small', 'base'] as const;
export type Variant = (typeof VARIANTS)[number];

export interface StageTable {
  /** Blocks per stage. */
  depths: readonly [number, number, number, number];
  /** Channels per stage. */
  widths: readonly [number, number, number, number];
}

export const STAGES: Readonly<Record<Variant, StageTable>> = {
  atto: { depths: [2, 2, 6, 2], widths: [40, 80, 160, 320] },
  femto: { depths: [2, 2, 6, 2], widths: [48, 96, 192, 384] },
  pico: { depths: [2, 2, 6, 2], widths: [64, 128, 256, 512] },
  nano: { depths: [2, 2, 8, 2], widths: [80, 160, 320, 640] },
  tiny: { depths: [3, 3, 9, 3], widths: [96, 192, 384, 768] },
  small: { depths: [3, 3, 27, 3], widths: [96, 192, 384, 768] },
  base: { depths: [3, 3, 27, 3], widths: [128, 256, 512, 1024] },
};

/**
 * Published ConvNeXt parameter counts in millions (1000-class head), as timm and the paper list them;
 * tests compare the count taken from the built graph with these.
 */
export const PUBLISHED_CONVNEXT_PARAMS_M: Readonly<Record<Variant, number>> = {
  atto: 3.7, femto: 5.2, pico: 9.1, nano: 15.6, tiny: 28.6, small: 50.2, base: 88.6,
};

/** Everything that shapes a network besides its stage table. */
export interface BlockDesign {
  family: ModelFamily;
  /** Spatial kernel of the block's first conv. */
  kernel: number;
  /** Input channels per group of that conv: 1 is depthwise. */
  groupWidth: number;
  /** Hidden width of the 1x1 MLP = expansion x channels. */
  expansion: number;
  activation: Activation;
  /** LayerNorm after the spatial conv (ConvNeXt) or BatchNorm folded into the conv (ConvFirst). */
  norm: 'layernorm' | 'folded-batchnorm';
  layerScale: boolean;
}

export const BLOCK_DESIGNS: Readonly<Record<ModelFamily, BlockDesign>> = {
  convnext: {
    family: 'convnext', kernel: 7, groupWidth: 1, expansion: 4, activation: 'gelu', norm: 'layernorm',
    layerScale: true,
  },
  // Lavin 2024: k x k grouped conv with group width 8 first, then 1x1 expand x4, SiLU, 1x1 project,
  // residual; BatchNorm after each conv folds into that conv's weights and bias at inference time.
  convfirst: {
    family: 'convfirst', kernel: 3, groupWidth: 8, expansion: 4, activation: 'silu', norm: 'folded-batchnorm',
    layerScale: false,
  },
};

/** The ConvNeXt macro-architecture shared by both families. */
export const MACRO = {
  /** Patchify stem: k x k conv with stride k, then LayerNorm. */
  stemPatch: 4,
  /** Between stages: LayerNorm, then a 2x2 stride-2 conv. */
  downsample: 2,
  /** LayerNorm epsilon everywhere (timm / the paper). */
  epsilon: 1e-6,
  classes: 1000,
} as const;

export function isFamily(s: string): s is ModelFamily {
  return (MODEL_FAMILIES as readonly string[]).includes(s);
}

export function isVariant(s: string): s is Variant {
  return (VARIANTS as readonly string[]).includes(s);
}

/** The overall downsampling factor: stem x three 2x downsamplings. */
export const TOTAL_STRIDE = MACRO.stemPatch * MACRO.downsample ** 3;
