/**
 * The k x k pass of a block: grouped conv (stride 1, 'same' zero padding) plus bias, packed NHWC in and
 * out. One output texel is 2 pixels (a W pair) x 2 output channels. For each filter row the shader reads
 * the ceil(k/2)*2+1 input texels covering the W window of both pixels once and reuses them for all k taps
 * of that row (the 2x2 packing halves the reads of a per-pixel loop). All taps are unrolled at generation
 * time, so texel lanes are picked by static swizzles.
 *
 *   groupWidth 1 (depthwise, ConvNeXt): input channel = output channel, products are lane-wise.
 *   groupWidth G even (ConvFirst):      both output channels share a group; input channels are read in
 *                                       pairs, G/2 texels per window position.
 * Filter layout (prepared once per weight set): F[(tap * G + i), o] packed, tap = ky * k + kx.
 */
import type { GPGPUProgram } from '@tensorflow/tfjs-backend-webgl';
import { fetchSnippet, outputTexelSnippet, type PackedLayout } from './packed_layout.js';

export interface SpatialConvOptions {
  /** NHWC input = output shape. */
  shape: [number, number, number, number];
  k: number;
  groupWidth: number;
  layouts: { X: PackedLayout; F: PackedLayout; Bias: PackedLayout; out: PackedLayout };
}

export class SpatialConvProgram implements GPGPUProgram {
  variableNames = ['X', 'F', 'Bias'];
  packedInputs = true;
  packedOutput = true;
  outputShape: number[];
  userCode: string;

  constructor(o: SpatialConvOptions) {
    if (o.groupWidth !== 1 && o.groupWidth % 2 !== 0) {
      throw new Error(`SpatialConvProgram: group width ${o.groupWidth} must be 1 or even`);
    }
    this.outputShape = o.shape;
    this.userCode = spatialConvShader(o);
  }
}

function spatialConvShader(o: SpatialConvOptions): string {
  const [, h, w, c] = o.shape;
  const { k, groupWidth: g } = o;
  const r = (k - 1) / 2;
  const wPairs = Math.ceil(w / 2);
  const reach = Math.ceil(r / 2); // texels either side of the output pair's own texel
  const span = 2 * reach + 1;
  // Pixel i of the window (0-based from the first texel) sits at w = 2 * (wp - reach) + i.
  const pixel = (win: string, i: number) => `${win}${Math.floor(i / 2)}.${i % 2 === 0 ? 'xy' : 'zw'}`;

  const rowCode: string[] = [];
  for (let ky = 0; ky < k; ky++) {
    const lines: string[] = [];
    const loadWindow = (column: string, win: string) => {
      for (let q = 0; q < span; q++) {
        lines.push(`vec4 ${win}${q} = windowTexel(xRow, wp + ${q - reach}, ${column});`);
      }
    };
    if (g === 1) {
      loadWindow('col', 'v');
      for (let kx = 0; kx < k; kx++) {
        const tap = ky * k + kx;
        const f = `f${tap % 2 === 0 ? 'xy' : 'zw'}`;
        lines.push(`{ vec4 ft = fetchF(${Math.floor(tap / 2)}, col); vec2 f = ft.${f.slice(1)};`);
        // Output pixel 0 (w0 = 2 wp) reads w0 + kx - r, pixel 1 reads one further.
        const i0 = 2 * reach + kx - r;
        lines.push(`  acc0 += ${pixel('v', i0)} * f; acc1 += ${pixel('v', i0 + 1)} * f; }`);
      }
    } else {
      lines.push(`for (int ip = 0; ip < ${g / 2}; ip++) {`);
      loadWindow(`groupCol + ip`, 'v');
      for (let kx = 0; kx < k; kx++) {
        const tap = ky * k + kx;
        // Texel rows (tap * G + 2 ip, +1) x output columns (o, o + 1): x = (i, o), y = (i, o+1),
        // z = (i+1, o), w = (i+1, o+1).
        lines.push(`{ vec4 f = fetchF(${(tap * g) / 2} + ip, col);`);
        const i0 = 2 * reach + kx - r;
        lines.push(`  vec2 p0 = ${pixel('v', i0)}; vec2 p1 = ${pixel('v', i0 + 1)};`);
        lines.push('  acc0 += p0.x * f.xy + p0.y * f.zw; acc1 += p1.x * f.xy + p1.y * f.zw; }');
      }
      lines.push('}');
    }
    rowCode.push(`{ // filter row ${ky}
      int y = h + ${ky - r};
      if (y >= 0 && y < ${h}) {
        int xRow = (nh + ${ky - r}) * ${wPairs};
        ${lines.join('\n        ')}
      }
    }`);
  }

  return `
    ${fetchSnippet('X', o.layouts.X)}
    ${fetchSnippet('F', o.layouts.F)}
    ${fetchSnippet('Bias', o.layouts.Bias)}

    // Input texel at W pair q of image row xRow; zero outside the image, and the empty second pixel of
    // an odd-width row's last pair is zeroed too (padding lanes of other programs' outputs are not
    // guaranteed to be zero).
    vec4 windowTexel(int xRow, int q, int column) {
      if (q < 0 || q >= ${wPairs}) return vec4(0.0);
      vec4 v = fetchX(xRow + q, column);
      ${w % 2 === 1 ? `if (q == ${wPairs - 1}) v.zw = vec2(0.0);` : ''}
      return v;
    }

    void main() {
      ${outputTexelSnippet(o.layouts.out)}
      int nh = row / ${wPairs};          // n * H + h
      int wp = row - nh * ${wPairs};     // W pair
      int h = nh - (nh / ${h}) * ${h};
      ${g === 1 ? '' : `int groupCol = ((2 * col) / ${g}) * ${g / 2}; // first input texel of the group`}
      vec2 bias = fetchBias(0, col).xy;
      vec2 acc0 = bias;  // pixel w0, channels (o, o+1)
      vec2 acc1 = bias;  // pixel w0 + 1
      ${rowCode.join('\n      ')}
      vec4 result = vec4(acc0, acc1);
      ${c % 2 === 1 ? `if (col == ${Math.ceil(c / 2) - 1}) result.yw = vec2(0.0);` : ''}
      ${w % 2 === 1 ? `if (wp == ${wPairs - 1}) result.zw = vec2(0.0);` : ''}
      setOutput(result);
    }
  `;
}
