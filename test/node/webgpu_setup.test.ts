/**
 * setupNodeWebGPU's Dawn toggles (src/node/webgpu_setup.ts): names checked before Dawn loads, the instance made
 * once per process with the toggles asked for, a later call asking for others refused by name. A process of its
 * own (node's test runner runs each file in one), so no other file's set-up is in the way.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setupNodeWebGPU } from '../../src/node/webgpu_setup.js';
import { webgpuUnavailableReason } from '../support/node_backends.js';

describe('setupNodeWebGPU: Dawn toggles', () => {
  it('refuses a malformed toggle name before loading Dawn', async () => {
    await assert.rejects(setupNodeWebGPU({ dawnToggles: { enable: ['Disable-Robustness'] } }),
      /dawnToggles\.enable 'Disable-Robustness' is not a Dawn toggle name/);
    await assert.rejects(setupNodeWebGPU({ dawnToggles: { disable: ['a b'] } }), /dawnToggles\.disable 'a b'/);
    assert.equal((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu, undefined, 'Dawn was loaded');
  });

  it('sets up once with the toggles given; other toggles later are refused, the same ones accepted', async () => {
    const unavailable = webgpuUnavailableReason();
    assert.equal(unavailable, null, `webgpu cannot run here: ${unavailable}`);
    const toggles = { enable: ['disable_robustness'] };
    await setupNodeWebGPU({ preferSwiftShader: true, dawnToggles: toggles });
    const adapter = await navigator.gpu.requestAdapter();
    assert.ok(adapter != null, 'no adapter with disable_robustness on');
    await setupNodeWebGPU({ preferSwiftShader: true, dawnToggles: toggles });
    await assert.rejects(setupNodeWebGPU({ preferSwiftShader: true }),
      /already set up with toggles allow_unsafe_apis,disable_robustness \/ timestamp_quantization; asked for allow_unsafe_apis \/ timestamp_quantization/);
  });
});
