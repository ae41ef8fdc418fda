// src/converter/tfjs_ops.ts (the ops a TF.js GraphModel may use) against the installed tfjs-converter: the
// op names of every op list its OperationMapper loads. TFJS_OPS_UPDATE=1 rewrites the file from them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { TFJS_GRAPH_OPS } from '../../src/converter/tfjs_ops.js';

const repo = new URL('../..', import.meta.url).pathname;
const converterDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-converter/package.json'));
const opsDir = join(converterDir, 'dist', 'operations');

/** The op lists operation_mapper.js imports, and the `tfOpName`s in them, sorted. */
function installedOps(): { lists: string[]; ops: string[] } {
  const mapper = readFileSync(join(opsDir, 'operation_mapper.js'), 'utf8');
  const lists = [...mapper.matchAll(/from '\.\/op_list\/(\w+)'/g)].map((m) => m[1]);
  const ops = new Set<string>();
  for (const l of lists) {
    for (const m of readFileSync(join(opsDir, 'op_list', `${l}.js`), 'utf8').matchAll(/'tfOpName': '([^']+)'/g)) ops.add(m[1]);
  }
  return { lists, ops: [...ops].sort() };
}

function rewrite(ops: string[]): void {
  const path = join(repo, 'src/converter/tfjs_ops.ts');
  const src = readFileSync(path, 'utf8');
  const head = src.slice(0, src.indexOf('[\n') + 2);
  const lines: string[] = [];
  let line = ' ';
  for (const op of ops) {
    const item = ` '${op}',`;
    if (line.length + item.length > 118) { lines.push(line); line = ' '; }
    line += item;
  }
  lines.push(line);
  writeFileSync(path, `${head}${lines.join('\n')}\n];\n`);
}

describe('TF.js op list', () => {
  it('is every op tfjs-converter\'s OperationMapper maps (the ops a GraphModel can run)', () => {
    const { lists, ops } = installedOps();
    assert.ok(lists.length >= 19 && !lists.includes('ragged'), `op lists found: ${lists.join(', ')}`);
    if (process.env.TFJS_OPS_UPDATE === '1') rewrite(ops);
    assert.deepEqual([...TFJS_GRAPH_OPS], ops,
      'src/converter/tfjs_ops.ts differs from the installed tfjs-converter: rerun this test with TFJS_OPS_UPDATE=1');
    for (const op of ['Conv2D', '_FusedConv2D', 'FusedDepthwiseConv2dNative', 'Erf', 'Placeholder', 'Const']) {
      assert.ok(TFJS_GRAPH_OPS.includes(op), op);
    }
  });
});
