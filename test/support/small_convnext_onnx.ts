/** A small ConvNeXt as ONNX bytes, for the demo's tests (a dropped own model: in Node and in the page). */
import { encodeOnnx, type NodeInput, type TensorInput } from './onnx_builder.js';
import { Rng } from './random.js';

/** A torchvision-shaped ConvNeXt (stem 4x4/4 + LayerNorm, one block of 16 channels, pooled head) as ONNX. */
export function smallConvNeXtOnnx(input: (number | string)[]): Uint8Array {
  const rng = new Rng(3);
  const init: Record<string, TensorInput> = {};
  const nodes: NodeInput[] = [];
  let id = 0;
  const weight = (shape: number[], std: number, mean = 0): string => {
    const name = `w${id++}`;
    init[name] = { dims: shape, float: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => mean + std * (rng.next() - 0.5)) };
    return name;
  };
  const scalar = (v: number): string => { const name = `c${id++}`; init[name] = { dims: [], float: [v] }; return name; };
  const op = (o: string, inputs: string[], attrs = {}): string => {
    const out = `v${id++}`;
    nodes.push({ op: o, inputs, outputs: [out], attrs });
    return out;
  };
  const c = 16;
  const ln2d = (x: string): string => op('Transpose', [op('LayerNormalization', [op('Transpose', [x], { perm: [0, 2, 3, 1] }),
    weight([c], 0.1, 1), weight([c], 0.1)], { axis: -1, epsilon: 1e-6 })], { perm: [0, 3, 1, 2] });
  const x = ln2d(op('Conv', ['input', weight([c, 3, 4, 4], 0.3), weight([c], 0.1)], { kernel_shape: [4, 4], strides: [4, 4] }));
  const dw = op('Conv', [x, weight([c, 1, 7, 7], 0.3), weight([c], 0.1)], { kernel_shape: [7, 7], pads: [3, 3, 3, 3], group: c });
  const ln = op('LayerNormalization', [op('Transpose', [dw], { perm: [0, 2, 3, 1] }), weight([c], 0.2, 1), weight([c], 0.1)],
    { axis: -1, epsilon: 1e-6 });
  const h = op('Add', [weight([4 * c], 0.1), op('MatMul', [ln, weight([c, 4 * c], 0.5)])]);
  const g = op('Mul', [op('Mul', [h, op('Add', [op('Erf', [op('Div', [h, scalar(Math.SQRT2)])]), scalar(1)])]), scalar(0.5)]);
  const y = op('Add', [weight([c], 0.1), op('MatMul', [g, weight([4 * c, c], 0.25)])]);
  const block = op('Add', [op('Mul', [weight([c, 1, 1], 0.1, 0.75), op('Transpose', [y], { perm: [0, 3, 1, 2] })]), x]);
  const flat = op('Flatten', [ln2d(op('GlobalAveragePool', [block]))], { axis: 1 });
  nodes.push({ op: 'Gemm', inputs: [flat, weight([10, c], 0.3), weight([10], 0.1)], outputs: ['output'], attrs: { transB: 1 } });
  return encodeOnnx({ inputs: { input }, outputs: { output: [input[0], 10] }, initializers: init, nodes });
}
