// Writes a ConvNeXt-T-sized ONNX model with torchvision's exported structure (depths 3,3,9,3, dims
// 96..768, Transpose-LayerNormalization-MatMul blocks, erf GELU, [C,1,1] layer scale) and seeded random
// weights, to check the converter at full size without torch:
//   npx tsx scripts/make_synthetic_convnext_onnx.ts /tmp/convnext_t.onnx [spatial=64]
//   npx tfjs-block-fusion convert /tmp/convnext_t.onnx /tmp/convnext_t --verify
import { writeFileSync } from 'node:fs';
import { convnextOnnx } from '../test/support/convnext_onnx.js';

const [outPath = 'convnext_t.onnx', spatialArg = '64'] = process.argv.slice(2);
const spatial = Number(spatialArg);
const bytes = convnextOnnx({ input: ['N', 3, spatial, spatial], depths: [3, 3, 9, 3], dims: [96, 192, 384, 768], classes: 1000, seed: 7 });
writeFileSync(outPath, bytes);
console.log(`wrote ${outPath}: ${(bytes.byteLength / 1e6).toFixed(1)} MB`);
