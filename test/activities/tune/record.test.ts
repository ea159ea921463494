import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { recordTrialImpl } from '../../../activities/tune/record';
import { tuneGridImpl } from '../../../activities/tune/grid';
import { testContext } from '../../support/step-context';
import type { ModelRef } from '../../../activities/refs';
import type { Store } from '../../../store';
import { testBackends } from '../../support/backends';
import { SYSTEM } from '../../../store/access';
import { stepStore } from '../../../workers/step-store';

const sha = 'ab'.repeat(32);
const model: ModelRef = {
  kind: 'model',
  uri: `artifact:sha256:${sha}`,
  sha256: sha,
  size: 42,
  task: 'binary',
  architecture: 'logistic',
  label: 'class',
  classes: ['good', 'bad'],
  backend: 'cpu',
};
const objective = { metric: 'rocAuc', goal: 'max' } as const;

describe('tune.record without a store', () => {
  it('reports the objective value and passes the trial on', async () => {
    const ctx = await testContext();
    const out = await recordTrialImpl.run(
      {
        experiment: 'e',
        objective,
        trial: { index: 2, params: { lr: 0.1 } },
        metrics: { rocAuc: 0.8, f1: 0.6 },
        model,
      },
      ctx,
    );
    assert.deepEqual(out, {
      trial: { index: 2, params: { lr: 0.1 }, metrics: { rocAuc: 0.8, f1: 0.6 }, model },
      objective: { ...objective, value: 0.8 },
    });
    await ctx.dispose();
  });
});

for (const backend of testBackends()) {
  describe(`tune steps on a ${backend.name} store`, () => {
    let store: Store;
    before(async () => {
      store = await backend.open();
    });
    after(() => backend.close());

    it('creates the experiment, and records each trial once with its params, metrics and model even when retried', async () => {
      const ctx = { ...(await testContext()), store: stepStore(store, 'test-workflow') };
      const search = await tuneGridImpl.run(
        { space: { lr: [0.01, 0.1] }, objective, experiment: `sweep-${backend.name}` },
        ctx,
      );
      assert.ok(
        (await store.experiments.listExperiments(SYSTEM)).some(
          (e) => e.name === search.experiment && e.description === 'grid search over lr for max rocAuc',
        ),
      );
      for (const [i, trial] of search.trials.entries()) {
        const input = { experiment: search.experiment, objective, trial, metrics: { rocAuc: [0.7, 0.8][i]! }, model };
        const instance = { ...ctx, run: { ...ctx.run, node: `trials[${i}].record` } };
        await recordTrialImpl.run(input, instance);
        await recordTrialImpl.run(input, instance); // a retried activity
      }
      const trials = await store.experiments.listTrials(SYSTEM, search.experiment, { metric: 'rocAuc', goal: 'max' });
      assert.deepEqual(
        trials.map((t) => [t.key, t.status, t.params, t.metrics, t.artifactSha256]),
        [
          ['test-workflow/trials[1].record', 'succeeded', { lr: 0.1 }, { rocAuc: 0.8 }, sha],
          ['test-workflow/trials[0].record', 'succeeded', { lr: 0.01 }, { rocAuc: 0.7 }, sha],
        ],
      );
      assert.equal(trials[0]!.runId, null, 'a run the store does not know is not linked');
      assert.equal((await store.artifacts.getArtifact(SYSTEM, sha))?.kind, 'model');
      await ctx.dispose();
    });

    it('keeps the trials of two searches in one run that share an experiment apart, though their indexes are the same', async () => {
      const ctx = { ...(await testContext()), store: stepStore(store, 'test-workflow') };
      const experiment = `shared-${backend.name}`;
      const trial = { index: 0, params: { lr: 0.1 } };
      for (const [map, rocAuc] of [
        ['coarse', 0.7],
        ['fine', 0.9],
      ] as const) {
        await recordTrialImpl.run(
          { experiment, objective, trial, metrics: { rocAuc }, model },
          { ...ctx, run: { ...ctx.run, node: `${map}[0].record` } },
        );
      }
      const trials = await store.experiments.listTrials(SYSTEM, experiment, { metric: 'rocAuc', goal: 'max' });
      assert.deepEqual(
        trials.map((t) => [t.key, t.metrics.rocAuc]),
        [
          ['test-workflow/fine[0].record', 0.9],
          ['test-workflow/coarse[0].record', 0.7],
        ],
      );
      await ctx.dispose();
    });
  });
}
