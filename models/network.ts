/**
 * ConvNeXt and ConvFirstNet as converter IR graphs: the ConvNeXt macro-architecture (4x4 stride-4 patchify
 * stem + LayerNorm (one FusedPatchConv with its post-norm in the fused model); four stages, each
 * after the first entered through LayerNorm + 2x2 stride-2 conv (one FusedPatchConv with its pre-norm); global
 * average pool + LayerNorm + linear head (one FusedClassifierHead in the fused model)) around the family's residual block. The graph is what the
 * GraphModel writer serialises, so a built model and a converted one share one runtime path.
 */
import type { Graph } from '../src/converter/ir.js';
import { GraphBuilder } from '../src/converter/ir_builder.js';
import { emitConvFirstBlock, emitConvNeXtBlock, initConvFirstBlock, initConvNeXtBlock } from './blocks.js';
import { WeightInit } from './init.js';
import { BLOCK_DESIGNS, isFamily, isVariant, MACRO, MODEL_FAMILIES, type ModelFamily, STAGES, TOTAL_STRIDE,
  type Variant, VARIANTS } from './variants.js';

export interface BuildOptions {
  /** One fused node per residual block (default) or the stock-op composition. */
  fused?: boolean;
  /** Seed of the random weights (default 0). The same seed gives the same weights fused or unfused. */
  seed?: number;
  /** Input height = width (default 224); a multiple of 32. */
  inputSize?: number;
  /** Fixed batch size, or -1 (default) for a dynamic batch. */
  batch?: number;
  /** Classes of the linear head (default 1000). */
  classes?: number;
  /** 'zeros' skips drawing random numbers: for structure-only uses (shapes, counts). Default 'random'. */
  weights?: 'random' | 'zeros';
  /** Told each step of the build (the stem, each stage, the head; buildModel: the encoding): large variants take seconds. */
  onProgress?: (message: string) => void;
}

export interface ModelConfig {
  family: ModelFamily;
  variant: Variant;
  fused: boolean;
  seed: number;
  inputSize: number;
  batch: number;
  classes: number;
}

/** Largest seed: the generator keeps 32 bits, so larger seeds would repeat smaller ones. */
export const MAX_SEED = 0xffffffff;

/** Every BuildOptions key: another (a misspelt `fuse` for `fused`) would otherwise be ignored. */
const BUILD_OPTION_KEYS = ['fused', 'seed', 'inputSize', 'batch', 'classes', 'weights', 'onProgress'] as const;

function checkBuildOptions(options: BuildOptions): void {
  for (const key of Object.keys(options)) {
    if (!(BUILD_OPTION_KEYS as readonly string[]).includes(key)) {
      const near = key === 'fuse' || key === 'unfused' ? " (did you mean 'fused'?)" : '';
      throw new Error(`unknown build option '${key}'${near} (expected ${BUILD_OPTION_KEYS.join(', ')})`);
    }
  }
  if (options.fused != null && typeof options.fused !== 'boolean') throw new Error(`fused must be a boolean, got ${JSON.stringify(options.fused)}`);
  if (options.weights != null && options.weights !== 'random' && options.weights !== 'zeros') {
    throw new Error(`weights must be 'random' or 'zeros', got ${JSON.stringify(options.weights)}`);
  }
  for (const key of ['seed', 'inputSize', 'batch', 'classes'] as const) {
    if (options[key] != null && typeof options[key] !== 'number') throw new Error(`${key} must be a number, got ${JSON.stringify(options[key])}`);
  }
  if (options.onProgress != null && typeof options.onProgress !== 'function') throw new Error('onProgress must be a function');
}

/**
 * Bounds on the sizes a built model may declare: a shape dimension is an int32 in TF.js's model.json; input sizes
 * past 32768 px describe tensors no device can hold; 100000 classes (ImageNet-21k has 21841) keep the head's weights
 * under half a gigabyte at base width instead of failing later in an allocation that names nothing.
 */
export const MAX_DIM = 2 ** 31 - 1;
export const MAX_INPUT_SIZE = 32768;
export const MAX_CLASSES = 100000;

export function resolveConfig(family: string, variant: string, opts: BuildOptions | null = {}): ModelConfig {
  const options = opts ?? {};
  checkBuildOptions(options);
  if (!isFamily(family)) throw new Error(`unknown model family '${family}' (expected ${MODEL_FAMILIES.join(' or ')})`);
  if (!isVariant(variant)) throw new Error(`unknown ${family} variant '${variant}' (expected one of ${VARIANTS.join(', ')})`);
  const inputSize = options.inputSize ?? 224;
  if (!Number.isInteger(inputSize) || inputSize < TOTAL_STRIDE || inputSize % TOTAL_STRIDE !== 0 || inputSize > MAX_INPUT_SIZE) {
    throw new Error(`input size ${inputSize} must be a positive multiple of ${TOTAL_STRIDE} (the network's total stride) ` +
      `up to ${MAX_INPUT_SIZE}`);
  }
  const batch = options.batch ?? -1;
  if (!Number.isInteger(batch) || (batch < 1 && batch !== -1) || batch > MAX_DIM) {
    throw new Error(`batch ${batch} must be -1 or in [1, ${MAX_DIM}]`);
  }
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new Error(`seed ${seed} must be an integer in [0, ${MAX_SEED}] (the weight generator's state is 32 bits)`);
  }
  const classes = options.classes ?? MACRO.classes;
  if (!Number.isInteger(classes) || classes < 1 || classes > MAX_CLASSES) {
    throw new Error(`classes ${classes} must be an integer in [1, ${MAX_CLASSES}]`);
  }
  return { family, variant, fused: options.fused ?? true, seed, inputSize, batch, classes };
}

/** The graph input's name: NHWC float32 images. */
export const INPUT_NAME = 'images';

/** Builds the network's IR graph with seeded random weights. */
export function buildModelGraph(family: string, variant: string, options: BuildOptions | null = {}): Graph {
  return buildNetwork(family, variant, options).graph;
}

/** The graph plus the value name of each stage's output (for shape checks and feature taps). */
export function buildNetwork(family: string, variant: string, opts: BuildOptions | null = {}):
  { graph: Graph; stageOutputs: string[] } {
  const options = opts ?? {};
  const cfg = resolveConfig(family, variant, options);
  const design = BLOCK_DESIGNS[cfg.family];
  const { depths, widths } = STAGES[cfg.variant];
  const init = new WeightInit(cfg.seed, options.weights ?? 'random');
  const progress = options.onProgress ?? (() => {});
  const b = new GraphBuilder();
  const s = cfg.inputSize;
  let x = b.input(INPUT_NAME, [cfg.batch, s, s, 3], 'float32', 'NHWC');

  const p = MACRO.stemPatch;
  const c0 = widths[0];
  progress(`${cfg.family}-${cfg.variant}: stem (${p}x${p} patchify to ${c0} channels)`);
  const stemFilter = b.weight('stem.0.weight', [p, p, 3, c0], init.weight(p * p * 3 * c0, p * p * 3));
  const stemBias = b.weight('stem.0.bias', [c0], init.bias(c0));
  if (cfg.fused) {
    // The LayerNorm folded into the conv as its post-norm (one FusedPatchConv), as the converter's patch conv pass does.
    const gamma = b.weight('stem.1.weight', [c0], init.normScale(c0));
    const beta = b.weight('stem.1.bias', [c0], init.normShift(c0));
    x = b.fusedPatchConv(x, stemFilter, { bias: stemBias, postNorm: { gamma, beta, epsilon: Math.fround(MACRO.epsilon) } },
      'stem.0.patch_conv');
  } else {
    x = layerNorm(b, b.conv2d(x, stemFilter, { strides: p, padding: 'VALID', bias: stemBias }), init, c0, 'stem.1', false);
  }

  const stageOutputs: string[] = [];
  for (let stage = 0; stage < 4; stage++) {
    const c = widths[stage];
    progress(`stage ${stage + 1}/4: ${depths[stage]} ${cfg.fused ? 'fused ' : ''}blocks of ${c} channels`);
    if (stage > 0) {
      const scope = `stages.${stage}.downsample`;
      const cin = widths[stage - 1];
      const k = MACRO.downsample;
      if (cfg.fused) {
        // The LayerNorm folded into the conv (one FusedPatchConv), as the converter's patch conv pass does.
        const gamma = b.weight(`${scope}.0.weight`, [cin], init.normScale(cin));
        const beta = b.weight(`${scope}.0.bias`, [cin], init.normShift(cin));
        const filter = b.weight(`${scope}.1.weight`, [k, k, cin, c], init.weight(k * k * cin * c, k * k * cin));
        const bias = b.weight(`${scope}.1.bias`, [c], init.bias(c));
        x = b.fusedPatchConv(x, filter, { bias, preNorm: { gamma, beta, epsilon: Math.fround(MACRO.epsilon) } },
          `${scope}.1.patch_conv`);
      } else {
        x = layerNorm(b, x, init, cin, `${scope}.0`, false);
        x = b.conv2d(x, b.weight(`${scope}.1.weight`, [k, k, cin, c], init.weight(k * k * cin * c, k * k * cin)), {
          strides: k, padding: 'VALID', bias: b.weight(`${scope}.1.bias`, [c], init.bias(c)) });
      }
    }
    let reported = Date.now();
    for (let i = 0; i < depths[stage]; i++) {
      // Block-level lines only for slow builds (base's stage 3: 27 blocks, ~8 s of weight drawing), at most 1 per second.
      const now = Date.now();
      if (i > 0 && now - reported >= 1000) {
        progress(`stage ${stage + 1}/4: block ${i + 1}/${depths[stage]}`);
        reported = now;
      }
      const scope = `stages.${stage}.blocks.${i}`;
      x = cfg.family === 'convnext'
        ? emitConvNeXtBlock(b, x, c, initConvNeXtBlock(init, c, design), design, cfg.fused, scope)
        : emitConvFirstBlock(b, x, c, initConvFirstBlock(init, c, design), design, cfg.fused, scope);
    }
    stageOutputs.push(x);
  }

  const cLast = widths[3];
  progress(`head (${cLast} -> ${cfg.classes} classes)`);
  if (cfg.fused) {
    // Pool, LayerNorm and dense in one FusedClassifierHead node, as the converter's head pass does.
    const gamma = b.weight('head.norm.weight', [cLast], init.normScale(cLast));
    const beta = b.weight('head.norm.bias', [cLast], init.normShift(cLast));
    const weight = b.weight('head.fc.weight', [cLast, cfg.classes], init.weight(cLast * cfg.classes, cLast));
    const bias = b.weight('head.fc.bias', [cfg.classes], init.bias(cfg.classes));
    x = b.fusedClassifierHead(x, gamma, beta, weight, bias, Math.fround(MACRO.epsilon), 'head.classifier_head');
  } else {
    x = b.mean(x, [1, 2], false);
    x = layerNorm(b, x, init, cLast, 'head.norm', false);
    x = b.biasAdd(b.matMul(x, b.weight('head.fc.weight', [cLast, cfg.classes], init.weight(cLast * cfg.classes, cLast))),
      b.weight('head.fc.bias', [cfg.classes], init.bias(cfg.classes)));
  }
  b.output(b.op('Identity', [x], {}, 'logits'));
  b.graph.validate();
  return { graph: b.graph, stageOutputs };
}

/** The stem / downsample / head LayerNorm: one FusedLayerNorm node in the fused model, the composite otherwise. */
function layerNorm(b: GraphBuilder, x: string, init: WeightInit, c: number, scope: string, fused: boolean): string {
  const gamma = b.weight(`${scope}.weight`, [c], init.normScale(c));
  const beta = b.weight(`${scope}.bias`, [c], init.normShift(c));
  // float32 epsilon: what the unfused graph's epsilon constant holds, so both forms compute the same.
  return fused ? b.fusedLayerNorm(x, gamma, beta, Math.fround(MACRO.epsilon), `${scope}.layer_norm`)
    : b.layerNorm(x, gamma, beta, MACRO.epsilon);
}

/** Parameters of a built graph: every float constant of rank >= 1 (scalars are op constants, not weights). */
export function countGraphParams(g: Graph): number {
  let n = 0;
  for (const t of g.constants.values()) if (t.dtype === 'float32' && t.shape.length > 0) n += t.data.length;
  return n;
}
