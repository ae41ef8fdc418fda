// Writes a ConvNeXt-T-sized ONNX model with torchvision's exported structure (depths 3,3,9,3, dims
// 96..768, Transpose-LayerNormalization-MatMul blocks, erf GELU, [C,1,1] layer scale) and seeded random
// weights, to check the converter at full size without torch:
//   npx tsx scripts/make_synthetic_convnext_onnx.ts /tmp/convnext_t.onnx [spatial=64]
//   npx tfjs-block-fusion convert /tmp/convnext_t.onnx /tmp/convnext_t --verify
import { writeFileSync } from 'node:fs';
import { encodeOnnx, type NodeInput, type TensorInput } from '../test/support/onnx_builder.js';
import { Rng } from '../test/support/random.js';

const [outPath = 'convnext_t.onnx', spatialArg = '64'] = process.argv.slice(2);
const spatial = Number(spatialArg);
const rng = new Rng(7);
const depths = [3, 3, 9, 3];
const dims = [96, 192, 384, 768];
const init: Record<string, TensorInput> = {};
const nodes: NodeInput[] = [];
let id = 0;
const weight = (shape: number[], std: number, mean = 0): string => {
  const name = `w${id++}`;
  init[name] = { dims: shape, float: rng.normals(shape.reduce((a, b) => a * b, 1), std, mean) };
  return name;
};
const scalar = (v: number): string => { const name = `c${id++}`; init[name] = { dims: [], float: [v] }; return name; };
const op = (o: string, inputs: string[], attrs = {}): string => {
  const out = `v${id++}`;
  nodes.push({ op: o, inputs, outputs: [out], attrs });
  return out;
};
const ln2d = (x: string, c: number): string => op('Transpose', [op('LayerNormalization',
  [op('Transpose', [x], { perm: [0, 2, 3, 1] }), weight([c], 0.1, 1), weight([c], 0.1)], { axis: -1, epsilon: 1e-6 })], { perm: [0, 3, 1, 2] });

let x = ln2d(op('Conv', ['input', weight([96, 3, 4, 4], 0.14), weight([96], 0.1)], { kernel_shape: [4, 4], strides: [4, 4] }), 96);
for (let s = 0; s < 4; s++) {
  const c = dims[s];
  if (s > 0) {
    x = op('Conv', [ln2d(x, dims[s - 1]), weight([c, dims[s - 1], 2, 2], 1 / Math.sqrt(4 * dims[s - 1])), weight([c], 0.1)],
      { kernel_shape: [2, 2], strides: [2, 2] });
  }
  for (let b = 0; b < depths[s]; b++) {
    const dw = op('Conv', [x, weight([c, 1, 7, 7], 1 / 7), weight([c], 0.1)], { kernel_shape: [7, 7], pads: [3, 3, 3, 3], group: c });
    const ln = op('LayerNormalization', [op('Transpose', [dw], { perm: [0, 2, 3, 1] }), weight([c], 0.2, 1), weight([c], 0.1)],
      { axis: -1, epsilon: 1e-6 });
    const h = op('Add', [weight([4 * c], 0.1), op('MatMul', [ln, weight([c, 4 * c], 1 / Math.sqrt(c))])]);
    const g = op('Mul', [op('Mul', [h, op('Add', [op('Erf', [op('Div', [h, scalar(Math.SQRT2)])]), scalar(1)])]), scalar(0.5)]);
    const y = op('Add', [weight([c], 0.1), op('MatMul', [g, weight([4 * c, c], 1 / Math.sqrt(4 * c))])]);
    x = op('Add', [op('Mul', [weight([c, 1, 1], 0.1, 0.75), op('Transpose', [y], { perm: [0, 3, 1, 2] })]), x]);
  }
}
const flat = op('Flatten', [ln2d(op('GlobalAveragePool', [x]), 768)], { axis: 1 });
nodes.push({ op: 'Gemm', inputs: [flat, weight([1000, 768], 0.036), weight([1000], 0.1)], outputs: ['output'], attrs: { transB: 1 } });
writeFileSync(outPath, encodeOnnx({ inputs: { input: ['N', 3, spatial, spatial] }, outputs: { output: ['N', 1000] }, initializers: init, nodes }));
console.log(`wrote ${outPath}: ${Object.keys(init).length} initializers, ${nodes.length} nodes`);
