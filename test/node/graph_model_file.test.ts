// Loading a GraphModel from disk (src/node/graph_model_file.ts, what `analyze` uses): shard paths stay in the model's folder.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import { loadGraphModelFromFile } from '../../src/node/graph_model_file.js';

const kerasDir = new URL('../../../shared/fixtures/tfjs/keras_convnext_tiny16_b1', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'tbf-graph-model-file-'));
after(() => { rmSync(work, { recursive: true, force: true }); });

describe('loadGraphModelFromFile', () => {
  it('refuses a weightsManifest path that climbs out of the model\'s folder instead of reading that file', async () => {
    const dir = join(work, 'model');
    cpSync(kerasDir, dir, { recursive: true });
    cpSync(join(dir, 'group1-shard1of1.bin'), join(work, 'outside.bin')); // right size: only the path is wrong
    const modelJson = join(dir, 'model.json');
    const mj = JSON.parse(readFileSync(modelJson, 'utf8'));
    mj.weightsManifest[0].paths = ['../outside.bin'];
    writeFileSync(modelJson, JSON.stringify(mj));
    await assert.rejects(loadGraphModelFromFile(modelJson),
      (e: Error) => e.message.includes(`weight shard ../outside.bin listed in ${modelJson} is outside the model's folder`));
  });
});
