/**
 * A ConvNeXt as torchvision's ONNX export lays it out (4x4/4 stem + LayerNorm2d, depthwise 7x7 ->
 * Transpose-LayerNormalization-MatMul blocks with erf GELU and a [C,1,1] layer scale, LayerNorm2d + 2x2/2
 * downsamples, pooled LayerNorm + Gemm head), with seeded random weights (fan-in scaled normals): for converter and
 * demo tests without torch, and for scripts/make_synthetic_convnext_onnx.ts at full size.
 */
import { encodeOnnx, type NodeInput, type TensorInput } from './onnx_builder.js';
import { Rng } from './random.js';

export interface ConvNeXtOnnxOptions {
  /** The input's dims, NCHW; strings are dynamic (e.g. ['N', 3, 'H', 'W']). */
  input: (number | string)[];
  depths: number[];
  dims: number[];
  classes: number;
  seed: number;
}

export function convnextOnnx({ input, depths, dims, classes, seed }: ConvNeXtOnnxOptions): Uint8Array {
  const rng = new Rng(seed);
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
    [op('Transpose', [x], { perm: [0, 2, 3, 1] }), weight([c], 0.1, 1), weight([c], 0.1)], { axis: -1, epsilon: 1e-6 })],
  { perm: [0, 3, 1, 2] });

  let x = ln2d(op('Conv', ['input', weight([dims[0], 3, 4, 4], 0.14), weight([dims[0]], 0.1)],
    { kernel_shape: [4, 4], strides: [4, 4] }), dims[0]);
  depths.forEach((depth, s) => {
    const c = dims[s];
    if (s > 0) {
      x = op('Conv', [ln2d(x, dims[s - 1]), weight([c, dims[s - 1], 2, 2], 1 / Math.sqrt(4 * dims[s - 1])), weight([c], 0.1)],
        { kernel_shape: [2, 2], strides: [2, 2] });
    }
    for (let b = 0; b < depth; b++) {
      const dw = op('Conv', [x, weight([c, 1, 7, 7], 1 / 7), weight([c], 0.1)], { kernel_shape: [7, 7], pads: [3, 3, 3, 3], group: c });
      const ln = op('LayerNormalization', [op('Transpose', [dw], { perm: [0, 2, 3, 1] }), weight([c], 0.2, 1), weight([c], 0.1)],
        { axis: -1, epsilon: 1e-6 });
      const h = op('Add', [weight([4 * c], 0.1), op('MatMul', [ln, weight([c, 4 * c], 1 / Math.sqrt(c))])]);
      const g = op('Mul', [op('Mul', [h, op('Add', [op('Erf', [op('Div', [h, scalar(Math.SQRT2)])]), scalar(1)])]), scalar(0.5)]);
      const y = op('Add', [weight([c], 0.1), op('MatMul', [g, weight([4 * c, c], 1 / Math.sqrt(4 * c))])]);
      x = op('Add', [op('Mul', [weight([c, 1, 1], 0.1, 0.75), op('Transpose', [y], { perm: [0, 3, 1, 2] })]), x]);
    }
  });
  const last = dims[depths.length - 1];
  const flat = op('Flatten', [ln2d(op('GlobalAveragePool', [x]), last)], { axis: 1 });
  nodes.push({ op: 'Gemm', inputs: [flat, weight([classes, last], 1 / Math.sqrt(last)), weight([classes], 0.1)],
    outputs: ['output'], attrs: { transB: 1 } });
  return encodeOnnx({ inputs: { input }, outputs: { output: [input[0], classes] }, initializers: init, nodes });
}

/** One 16-channel block, 10 classes: the demo tests' dropped own model (in Node and in the page). */
export function smallConvNeXtOnnx(input: (number | string)[]): Uint8Array {
  return convnextOnnx({ input, depths: [1], dims: [16], classes: 10, seed: 3 });
}
