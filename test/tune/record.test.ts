import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { recordTrialImpl } from '../../activities/tune/record';
import { tuneGridImpl } from '../../activities/tune/search';
import { testContext } from '../../activities/data/test-context';
import type { ModelRef } from '../../activities/refs';
import type { Store } from '../../store';
import { testBackends } from '../../store/testing';

const sha = 'ab'.repeat(32);
const model: ModelRef = { kind: 'model', uri: `artifact:sha256:${sha}`, sha256: sha, size: 42, task: 'binary', architecture: 'logistic', label: 'class', classes: ['good', 'bad'], backend: 'cpu' };
const objective = { metric: 'rocAuc', goal: 'max' } as const;

describe('tune.record without a store', () => {
  it('reports the objective value and passes the trial on', async () => {
    const ctx = await testContext();
    const out = await recordTrialImpl.run({ experiment: 'e', objective, trial: { index: 2, params: { lr: 0.1 } }, metrics: { rocAuc: 0.8, f1: 0.6 }, model }, ctx);
    assert.deepEqual(out, { trial: { index: 2, params: { lr: 0.1 }, metrics: { rocAuc: 0.8, f1: 0.6 }, model }, objective: { ...objective, value: 0.8 } });
    await ctx.dispose();
  });
});

for (const backend of testBackends()) {
  describe(`tune steps on a ${backend.name} store`, () => {
    let store: Store;
    before(async () => { store = await backend.open(); });
    after(() => backend.close());

    it('creates the experiment, and records each trial once with its params, metrics and model even when retried', async () => {
      const ctx = { ...(await testContext()), store };
      const search = await tuneGridImpl.run({ space: { lr: [0.01, 0.1] }, objective, experiment: `sweep-${backend.name}` }, ctx);
      assert.ok((await store.listExperiments()).some((e) => e.name === search.experiment && e.description === 'grid search over lr for max rocAuc'));
      for (const [i, trial] of search.trials.entries()) {
        const input = { experiment: search.experiment, objective, trial, metrics: { rocAuc: [0.7, 0.8][i]! }, model };
        await recordTrialImpl.run(input, ctx);
        await recordTrialImpl.run(input, ctx); // a retried activity
      }
      const trials = await store.listTrials(search.experiment, { metric: 'rocAuc', goal: 'max' });
      assert.deepEqual(trials.map((t) => [t.key, t.status, t.params, t.metrics, t.artifactSha256]), [
        ['test-workflow/1', 'succeeded', { lr: 0.1 }, { rocAuc: 0.8 }, sha],
        ['test-workflow/0', 'succeeded', { lr: 0.01 }, { rocAuc: 0.7 }, sha],
      ]);
      assert.equal(trials[0]!.runId, null, 'a run the store does not know is not linked');
      assert.equal((await store.getArtifact(sha))?.kind, 'model');
      await ctx.dispose();
    });
  });
}
