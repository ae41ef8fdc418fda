/**
 * The configurations `npm run bench:models` can run (bench/models.ts; `--configs` picks a subset by key, stock
 * first). Plain data, so the command line is checked against the keys before any device work.
 */

/**
 * `patchConvs: false`: fused blocks and LayerNorms but the stem / downsample convs left as stock Conv2D.
 * `classifierHead: false`: the fused model with the head left as Mean + FusedLayerNorm + MatMul + BiasAdd (the
 * converter's passes with its head pass off), the same-run A/B of FusedClassifierHead.
 * `directPatchConvs`: the fused model with the patch convs' GEMM path forced off (the direct kernel, with its own
 * split-K rule, everywhere), the same-run A/B of that path.
 * `rolledGemms`: the fused model with every shared-GEMM tile's k loop left as a loop (GemmTile.unrolled false), the
 * same-run A/B of the unrolled steps.
 * `unpaired`: the fused model without the doubled tile + 2 hidden splits at 1-2 tiles per SM (N=1 28x28 blocks).
 * `expand4x8`: the fused model with every gemm-mlp expand GEMM on the 4 x 8-per-thread tile (the 8 x 8 rule off).
 * `convRows`: the fused model with the conv strips' rows written out everywhere (the grouped-conv row loop off).
 * `headRows`: the fused model with FusedClassifierHead pooling R images per workgroup (the rule: up to 8).
 * `headLanes`: the fused model with FusedClassifierHead's dense sum over C split in that many lanes per column unit.
 * `unfoldedNorm`: the fused model with the downsamples' LayerNorm always its own dispatch (PatchGemmChoice.foldedNorm
 * off: no LayerNorm folded past a split patch GEMM).
 * `patchTile64`: the fused model with every patch GEMM on the 64 x 96 tile (the 32 x 96 rule from Cout 192 off).
 * `stemNormApart`: the fused model with the stem's LayerNorm a FusedLayerNorm node of its own instead of its patch
 * conv's post-norm (the graph rewritten; the A/B of the post-norm in the stem GEMM's epilogue).
 * `submitBatch`: tfjs's WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE (dispatches per queue.submit; tfjs's default 15) while the
 * configuration runs: the wall-time A/B of fewer, larger submits (GPU time is timed per dispatch either way).
 */
export interface ModelConfig {
  key: string; label: string; family: 'convnext' | 'convfirst'; fused: boolean; patchConvs?: false; classifierHead?: false;
  directPatchConvs?: true; rolledGemms?: true; expand4x8?: true; unpaired?: true; convRows?: true; headRows?: number;
  headLanes?: number; unfoldedNorm?: true; stemNormApart?: true; patchTile64?: true; submitBatch?: number;
}
export const ALL_CONFIGS: readonly ModelConfig[] = [
  { key: 'stock', label: 'ConvNeXt stock ops', family: 'convnext', fused: false },
  { key: 'fused', label: 'ConvNeXt fused', family: 'convnext', fused: true },
  { key: 'direct', label: 'ConvNeXt fused, direct patch', family: 'convnext', fused: true, directPatchConvs: true },
  { key: 'rolled', label: 'ConvNeXt fused, rolled GEMMs', family: 'convnext', fused: true, rolledGemms: true },
  { key: 'exp4x8', label: 'ConvNeXt fused, 4x8 expand', family: 'convnext', fused: true, expand4x8: true },
  { key: 'unpaired', label: 'ConvNeXt fused, unpaired', family: 'convnext', fused: true, unpaired: true },
  { key: 'cfunpaired', label: 'ConvFirstNet fused, unpaired', family: 'convfirst', fused: true, unpaired: true },
  { key: 'conv2d', label: 'ConvNeXt fused, Conv2D', family: 'convnext', fused: true, patchConvs: false },
  { key: 'nohead', label: 'ConvNeXt fused, stock head', family: 'convnext', fused: true, classifierHead: false },
  { key: 'convfirst', label: 'ConvFirstNet fused', family: 'convfirst', fused: true },
  { key: 'headr1', label: 'ConvNeXt fused, head R=1', family: 'convnext', fused: true, headRows: 1 },
  { key: 'headr2', label: 'ConvNeXt fused, head R=2', family: 'convnext', fused: true, headRows: 2 },
  { key: 'headr4', label: 'ConvNeXt fused, head R=4', family: 'convnext', fused: true, headRows: 4 },
  { key: 'headl16', label: 'ConvNeXt fused, head 16 lanes', family: 'convnext', fused: true, headLanes: 16 },
  { key: 'headl32', label: 'ConvNeXt fused, head 32 lanes', family: 'convnext', fused: true, headLanes: 32 },
  { key: 'headl64', label: 'ConvNeXt fused, head 64 lanes', family: 'convnext', fused: true, headLanes: 64 },
  { key: 'headl128', label: 'ConvNeXt fused, head 128 lanes', family: 'convnext', fused: true, headLanes: 128 },
  { key: 'cfrows', label: 'ConvFirstNet fused, conv rows written out', family: 'convfirst', fused: true, convRows: true },
  { key: 'lnsplit', label: 'ConvNeXt fused, LayerNorm dispatches', family: 'convnext', fused: true, unfoldedNorm: true },
  { key: 'patch64', label: 'ConvNeXt fused, 64x96 patch GEMMs', family: 'convnext', fused: true, patchTile64: true },
  { key: 'cfpatch64', label: 'ConvFirstNet fused, 64x96 patch GEMMs', family: 'convfirst', fused: true, patchTile64: true },
  { key: 'stemln', label: 'ConvNeXt fused, stem LayerNorm apart', family: 'convnext', fused: true, stemNormApart: true },
  { key: 'cflnsplit', label: 'ConvFirstNet fused, LayerNorm dispatches', family: 'convfirst', fused: true,
    unfoldedNorm: true },
  { key: 'sub2', label: 'ConvNeXt fused, submit per 2', family: 'convnext', fused: true, submitBatch: 2 },
  { key: 'sub4', label: 'ConvNeXt fused, submit per 4', family: 'convnext', fused: true, submitBatch: 4 },
  { key: 'sub8', label: 'ConvNeXt fused, submit per 8', family: 'convnext', fused: true, submitBatch: 8 },
  { key: 'cfsub4', label: 'ConvFirstNet fused, submit per 4', family: 'convfirst', fused: true, submitBatch: 4 },
  { key: 'sub1k', label: 'ConvNeXt fused, one submit', family: 'convnext', fused: true, submitBatch: 1000 },
  { key: 'cfsub1k', label: 'ConvFirstNet fused, one submit', family: 'convfirst', fused: true, submitBatch: 1000 },
  { key: 'stocksub1k', label: 'ConvNeXt stock ops, one submit', family: 'convnext', fused: false, submitBatch: 1000 },
];
