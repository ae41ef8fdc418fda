/**
 * Entry for running `analyze` on the GPU machine (../shared/device/prepare.sh bench/analyze_device.ts DIR):
 * the same command line as `tfjs-block-fusion analyze`, e.g.
 *   bash DIR/run.sh --name "ConvNeXt-T stock" stock/model.json --name "ConvNeXt-T fused" fused/model.json \
 *     --batch 1 --backend webgpu --out "$OUT/analysis"
 */
import { run } from '../src/cli/analyze.js';

process.exitCode = await run(process.argv.slice(2));
