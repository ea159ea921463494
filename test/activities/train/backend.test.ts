import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { preferredBackends, tensorflow } from '../../../activities/train/backend';

describe('TensorFlow.js backend choice', () => {
  it('uses tfjs-node when it is installed, else falls back to WebAssembly', async () => {
    const runtime = await tensorflow(['tensorflow', 'wasm', 'cpu']);
    const expected = runtime.skipped.length === 0 ? 'tensorflow' : 'wasm';
    assert.equal(runtime.backend, expected);
    assert.equal(runtime.tf.getBackend(), expected);
    if (expected === 'wasm')
      assert.deepEqual(
        runtime.skipped.map((s) => s.backend),
        ['tensorflow'],
      );
  });

  it('runs on the plain JavaScript backend when asked to', async () => {
    const runtime = await tensorflow(['cpu']);
    assert.equal(runtime.backend, 'cpu');
    assert.deepEqual(runtime.tf.tensor1d([1, 2]).add(1).arraySync(), [2, 3]);
  });

  it('reads a backend order from KILN_TF_BACKEND and rejects unknown names', () => {
    assert.deepEqual(preferredBackends(undefined), ['tensorflow', 'wasm', 'cpu']);
    assert.deepEqual(preferredBackends('cpu'), ['cpu']);
    assert.deepEqual(preferredBackends('wasm, cpu'), ['wasm', 'cpu']);
    assert.throws(() => preferredBackends('gpu'), /KILN_TF_BACKEND names 'gpu'/);
  });
});
