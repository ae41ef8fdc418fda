/**
 * conversion-report.json: blocks fused per kind, node counts before and after, the ops left as stock
 * ops, and (with --verify) the error between the unfused and fused graphs on a seeded random input.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { specKey } from '../spec/block_spec.js';
import { FUSED_OPS, fusedOpCounts } from './fused_ops.js';
import type { FusedBlock } from './fusion.js';
import { toModelArtifacts, writeGraphModel } from './graphmodel_writer.js';
import { concreteInputShape, type Graph, type GraphInput } from './ir.js';
import { registerFusedGraphOps } from './register_ops.js';

export interface VerifyResult {
  seed: number;
  /** Input shapes used (dynamic dims set to 1, dynamic height / width to VERIFY_SPATIAL_SIZE). */
  inputShapes: number[][];
  maxAbsError: number;
  /** maxAbsError / max |unfused output|. */
  maxRelError: number;
  backend: string;
}

export interface ConversionReport {
  source: 'onnx' | 'tfjs';
  fused: boolean;
  quantize: 'float16' | 'uint8' | null;
  blocks: { convnext: number; convfirst: number; total: number };
  /** Standalone LayerNorms (outside blocks) rewritten to FusedLayerNorm (not those folded into patch convs). */
  layerNorms: number;
  /**
   * Stride-k k x k convs (stem, downsample layers) rewritten to FusedPatchConv, and how many absorbed the LayerNorm
   * before them (the downsamples') or after them (the stem's).
   */
  patchConvs: { total: number; preNorm: number; postNorm: number };
  /** Pool + LayerNorm + dense heads rewritten to FusedClassifierHead. */
  classifierHeads: number;
  /** Fused op -> count of the fused ops the input already had (a converted model converted again); empty if none. */
  alreadyFused: Record<string, number>;
  /** Distinct block shapes (BlockSpec keys) and how many of each. */
  blockSpecs: Record<string, number>;
  nodes: { before: number; after: number };
  opsBefore: Record<string, number>;
  /** Op -> count of the stock ops in the written graph. */
  unfusedOps: Record<string, number>;
  inputs: { name: string; shape: number[]; layout?: string }[];
  outputs: string[];
  /** One line for people. */
  summary: string;
  verify?: VerifyResult;
}

export function buildReport(o: { source: 'onnx' | 'tfjs'; unfused: Graph; graph: Graph; blocks: FusedBlock[];
  layerNorms?: number; patchConvs?: { total: number; preNorm: number; postNorm: number }; classifierHeads?: number; fuse: boolean;
  quantize?: 'float16' | 'uint8' }): ConversionReport {
  const convnext = o.blocks.filter((b) => b.kind === 'convnext').length;
  const convfirst = o.blocks.filter((b) => b.kind === 'convfirst').length;
  const specs: Record<string, number> = {};
  for (const b of o.blocks) specs[specKey(b.spec)] = (specs[specKey(b.spec)] ?? 0) + 1;
  const unfusedOps = o.graph.opCounts();
  for (const op of FUSED_OPS) delete unfusedOps[op];
  const alreadyFused = fusedOpCounts(o.unfused.opCounts());
  const alreadyPart = Object.entries(alreadyFused).map(([op, n]) => `${n} ${op}`).join(', ');
  const layerNorms = o.layerNorms ?? 0;
  const patchConvs = o.patchConvs ?? { total: 0, preNorm: 0, postNorm: 0 };
  const withNorm = patchConvs.preNorm + patchConvs.postNorm;
  const classifierHeads = o.classifierHeads ?? 0;
  const lnPart = (layerNorms > 0 ? `${patchConvs.total > 0 ? ',' : ' and'} ${layerNorms} LayerNorm${layerNorms === 1 ? '' : 's'}` : '') +
    (patchConvs.total > 0 ? ` and ${patchConvs.total} patch conv${patchConvs.total === 1 ? '' : 's'}` +
      (withNorm > 0 ? ` (${withNorm} with their LayerNorm)` : '') : '') +
    (classifierHeads > 0 ? `, plus ${classifierHeads} classifier head${classifierHeads === 1 ? '' : 's'}` : '');
  const summary = !o.fuse ? `converted without fusion: ${o.graph.nodes.length} nodes` +
    (alreadyPart ? ` (the input's fused nodes kept: ${alreadyPart})` : '')
    // Not "no blocks found": the blocks are there, fused by an earlier conversion.
    : o.blocks.length === 0 && alreadyPart ? `already fused: ${alreadyPart} nodes` +
      (lnPart ? `; fused ${lnPart.replace(/^(,| and)( plus)? /, '')} more` : ', nothing left to fuse') +
      `: ${o.unfused.nodes.length} -> ${o.graph.nodes.length} nodes`
    : o.blocks.length === 0 ? `no ConvNeXt or ConvFirst blocks found${lnPart ? ` (fused${lnPart})` : ''}: the model ` +
      `was converted unfused (${o.graph.nodes.length} nodes)`
      : `fused ${convnext} ConvNeXt and ${convfirst} ConvFirst blocks${lnPart}: ${o.unfused.nodes.length} -> ` +
        `${o.graph.nodes.length} nodes${alreadyPart ? ` (the input already had ${alreadyPart})` : ''}`;
  return {
    source: o.source,
    fused: o.fuse,
    quantize: o.quantize ?? null,
    blocks: { convnext, convfirst, total: convnext + convfirst },
    layerNorms,
    patchConvs,
    classifierHeads,
    alreadyFused,
    blockSpecs: specs,
    nodes: { before: o.unfused.nodes.length, after: o.graph.nodes.length },
    opsBefore: o.unfused.opCounts(),
    unfusedOps,
    inputs: o.graph.inputs.map((i) => ({ name: i.name, shape: i.shape, ...(i.layout ? { layout: i.layout } : {}) })),
    outputs: o.graph.outputs,
    summary,
  };
}

/** Height and width --verify gives an image input whose spatial dims are dynamic (ConvNeXt's total stride is 32). */
export const VERIFY_SPATIAL_SIZE = 64;

/** The input shape --verify runs: batch 1, an unknown height / width VERIFY_SPATIAL_SIZE (a 1x1 image is smaller than a stem patch). */
export function verifyInputShape(input: GraphInput): number[] {
  return concreteInputShape(input, { batch: 1, spatial: VERIFY_SPATIAL_SIZE });
}

/** Seeded uniform [-1, 1) values (mulberry32), so --verify runs are reproducible. */
export function seededInput(shape: number[], seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < out.length; i++) {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

async function runGraph(g: Graph, inputs: tf.Tensor[], quantize?: 'float16' | 'uint8'): Promise<Float32Array[]> {
  const model = await loadGraphModel(tf.io.fromMemory(toModelArtifacts(writeGraphModel(g, { quantize }))));
  try {
    const out = model.execute(inputs.length === 1 ? inputs[0] : inputs) as tf.Tensor | tf.Tensor[];
    const list = Array.isArray(out) ? out : [out];
    const data = await Promise.all(list.map(async (t) => Float32Array.from(await t.data())));
    list.forEach((t) => t.dispose());
    return data;
  } finally {
    model.dispose();
  }
}

/**
 * Runs the unfused and fused graphs (both written with the same quantization) on one seeded random
 * input on the active TF.js backend and returns the largest difference.
 */
export interface VerifyOptions {
  /** Seed of the random input (default 1234). */
  seed?: number;
  /** The precision the written weights have (both graphs run with it). */
  quantize?: 'float16' | 'uint8';
  /** Told before each graph runs and before the comparison (a large model takes tens of seconds on cpu). */
  onProgress?: (message: string) => void;
}

export async function verifyConversion(unfused: Graph, fused: Graph, seedOrOptions: number | VerifyOptions = 1234,
  quantizeArg?: 'float16' | 'uint8'): Promise<VerifyResult> {
  const o: VerifyOptions = typeof seedOrOptions === 'number' ? { seed: seedOrOptions, quantize: quantizeArg } : seedOrOptions;
  const seed = o.seed ?? 1234;
  const quantize = o.quantize;
  const progress = o.onProgress ?? (() => {});
  // The fused graph's ops, for an app that imported only this subpath (without them tfjs-converter fails with
  // "Unknown op 'FusedPatchConv'. File an issue at ...tfjs"); a no-op after `import 'tfjs-block-fusion'`.
  registerFusedGraphOps();
  const shapes = unfused.inputs.map(verifyInputShape);
  const inputs = unfused.inputs.map((inp, k) => tf.tensor(seededInput(shapes[k], seed + k), shapes[k], inp.dtype));
  try {
    progress(`running the unfused graph (${unfused.nodes.length} nodes) on ${tf.getBackend()}`);
    const want = await runGraph(unfused, inputs, quantize);
    progress(`running the fused graph (${fused.nodes.length} nodes)`);
    const got = await runGraph(fused, inputs, quantize);
    progress(`comparing ${want.length} output(s)`);
    let maxAbs = 0;
    let maxRef = 0;
    want.forEach((w, o) => {
      for (let i = 0; i < w.length; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(w[i] - got[o][i]));
        maxRef = Math.max(maxRef, Math.abs(w[i]));
      }
    });
    return { seed, inputShapes: shapes, maxAbsError: maxAbs, maxRelError: maxRef > 0 ? maxAbs / maxRef : maxAbs, backend: tf.getBackend() };
  } finally {
    inputs.forEach((t) => t.dispose());
  }
}
