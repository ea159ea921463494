import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Store } from '../../store/db';
import { testBackends } from '../support/backends';
import { SYSTEM } from '../../store/access';

for (const backend of testBackends()) {
  describe(`experiments on ${backend.name}`, () => {
    let store: Store;
    before(async () => {
      store = await backend.open();
    });
    after(() => backend.close());

    it('records a trial once per key, merging metrics as they arrive', async () => {
      await store.experiments.recordExperiment(SYSTEM, { name: 'lr-sweep', description: 'learning rates' });
      await store.experiments.recordTrial(SYSTEM, {
        experiment: 'lr-sweep',
        key: 'lr=0.1',
        status: 'running',
        params: { lr: 0.1 },
      });
      await store.experiments.recordTrial(SYSTEM, {
        experiment: 'lr-sweep',
        key: 'lr=0.1',
        status: 'running',
        metrics: { loss: 0.5 },
      });
      const done = await store.experiments.recordTrial(SYSTEM, {
        experiment: 'lr-sweep',
        key: 'lr=0.1',
        status: 'succeeded',
        metrics: { auc: 0.8 },
      });
      await store.experiments.recordTrial(SYSTEM, {
        experiment: 'lr-sweep',
        key: 'lr=0.1',
        status: 'succeeded',
        metrics: { auc: 0.8 },
      });
      assert.deepEqual(done.params, { lr: 0.1 });
      assert.deepEqual(done.metrics, { loss: 0.5, auc: 0.8 });
      const trials = await store.experiments.listTrials(SYSTEM, 'lr-sweep');
      assert.equal(trials.length, 1);
      assert.equal(trials[0]!.finishedAt?.getTime(), done.finishedAt?.getTime());
    });

    it('ranks trials by a metric, best first, those without it last', async () => {
      await Promise.all([
        store.experiments.recordTrial(SYSTEM, {
          experiment: 'lr-sweep',
          key: 'lr=0.01',
          status: 'succeeded',
          params: { lr: 0.01 },
          metrics: { auc: 0.86 },
        }),
        store.experiments.recordTrial(SYSTEM, {
          experiment: 'lr-sweep',
          key: 'lr=1',
          status: 'failed',
          params: { lr: 1 },
        }),
        store.experiments.recordTrial(SYSTEM, {
          experiment: 'lr-sweep',
          key: 'lr=0.001',
          status: 'pruned',
          params: { lr: 0.001 },
          metrics: { auc: 0.7 },
        }),
      ]);
      assert.deepEqual(
        (await store.experiments.listTrials(SYSTEM, 'lr-sweep', { metric: 'auc' })).map((t) => t.key),
        ['lr=0.01', 'lr=0.1', 'lr=0.001', 'lr=1'],
      );
      assert.deepEqual(
        (await store.experiments.listTrials(SYSTEM, 'lr-sweep', { metric: 'auc', goal: 'min' })).map((t) => t.key),
        ['lr=0.001', 'lr=0.1', 'lr=0.01', 'lr=1'],
      );
      assert.deepEqual(
        (await store.experiments.listExperiments(SYSTEM)).map((e) => e.name),
        ['lr-sweep'],
      );
      await assert.rejects(store.experiments.listTrials(SYSTEM, 'nope'), { name: 'NotFoundError' });
    });
  });
}
