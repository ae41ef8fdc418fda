/**
 * A block as three packed passes on WebGL: (1) k x k grouped conv + bias, (2) expand matmul with the
 * block's norm folded in and the activation in the epilogue, (3) project matmul + bias + residual. Both
 * block families run through this one plan; what differs is read from the BlockSpec.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendWebGL } from '@tensorflow/tfjs-backend-webgl';
import type { BlockSpec } from '../../spec/block_spec.js';
import { ensurePacked, inputLayout, outputLayout } from './packed_layout.js';
import { PointwiseProgram } from './pointwise_program.js';
import { SpatialConvProgram } from './spatial_conv_program.js';

/** Prepared weights (see block_weights.ts): F [k*k*G, C], convBias [1, C], w1 [C, D], aux1 [2, D],
 * w2 [D, C], aux2 [2, C]. */
export interface BlockWeights {
  filter: TensorInfo; convBias: TensorInfo; w1: TensorInfo; aux1: TensorInfo; w2: TensorInfo; aux2: TensorInfo;
}

/** Runs the three passes; returns the packed NHWC output. */
export function runBlockPasses(backend: MathBackendWebGL, spec: BlockSpec, xInput: TensorInfo,
  weights: BlockWeights): TensorInfo {
  const [n, h, w, c] = xInput.shape as [number, number, number, number];
  const d = spec.hidden;
  const temporaries: TensorInfo[] = [];
  const packed = (t: TensorInfo) => {
    const p = ensurePacked(backend, t);
    if (p.temporary) temporaries.push(p.info);
    return p.info;
  };
  const x = packed(xInput);
  const wt = {
    filter: packed(weights.filter), convBias: packed(weights.convBias), w1: packed(weights.w1),
    aux1: packed(weights.aux1), w2: packed(weights.w2), aux2: packed(weights.aux2),
  };
  const layout = (t: TensorInfo) => inputLayout(backend, t);
  const shapeC: [number, number, number, number] = [n, h, w, c];
  const shapeD: [number, number, number, number] = [n, h, w, d];
  const run = (program: SpatialConvProgram | PointwiseProgram, inputs: TensorInfo[]) =>
    backend.runWebGLProgram(program, inputs, 'float32', undefined, /* preventEagerUnpackingOfOutput */ true);
  try {
    const conv = run(new SpatialConvProgram({
      shape: shapeC, k: spec.k, groupWidth: spec.groupWidth,
      layouts: { X: layout(x), F: layout(wt.filter), Bias: layout(wt.convBias), out: outputLayout(shapeC) },
    }), [x, wt.filter, wt.convBias]);
    temporaries.push(conv);
    const hidden = run(new PointwiseProgram({
      outShape: shapeD, inChannels: c,
      layerNorm: spec.norm === 'layernorm' ? { epsilon: spec.epsilon } : null,
      activation: spec.activation, residual: false,
      layouts: { A: layout(conv), B: layout(wt.w1), Aux: layout(wt.aux1), out: outputLayout(shapeD) },
    }), [conv, wt.w1, wt.aux1]);
    temporaries.push(hidden);
    return run(new PointwiseProgram({
      outShape: shapeC, inChannels: d, layerNorm: null, activation: null, residual: spec.residual,
      layouts: {
        A: layout(hidden), B: layout(wt.w2), Aux: layout(wt.aux2), R: layout(x), out: outputLayout(shapeC),
      },
    }), spec.residual ? [hidden, wt.w2, wt.aux2, x] : [hidden, wt.w2, wt.aux2]);
  } finally {
    for (const t of temporaries) backend.disposeIntermediateTensorInfo(t);
  }
}
