import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { writeDataset, type Column } from '../../activities/common/dataset/dataset';
import { sensitiveTrainingColumns } from '../../serving/training-tags';
import type { Store } from '../../store';
import { SYSTEM } from '../../store/access';
import { testBackends } from '../support/backends';
import { runStep, sha, startRun } from '../support/store-fixtures';
import { testContext } from '../support/step-context';

// kiln serve logs the columns a model's training data tags sensitive as keyed hashes, without a
// --sensitive flag: the tags are found through lineage from each version to its training dataset.

for (const backend of testBackends()) {
  describe(`sensitive columns of a model's training data (${backend.name})`, () => {
    let store: Store;
    let ctx: Awaited<ReturnType<typeof testContext>>;
    before(async () => {
      store = await backend.open();
      ctx = await testContext();
    });
    after(async () => {
      await ctx.dispose();
      await backend.close();
    });

    /** Registers a version of `model` trained (in lineage) on a dataset with these columns. */
    async function versionTrainedOn(model: string, columns: Column[]) {
      const dataset = await writeDataset(ctx.artifacts, columns, [columns.map((c) => (c.type === 'string' ? 'x' : 1))]);
      await store.artifacts.recordArtifact(SYSTEM, { ...dataset, kind: 'dataset' });
      const runId = `run-${model}-${dataset.sha256.slice(0, 8)}`;
      await startRun(store, runId);
      const artifact = sha(`model of ${runId}`);
      await runStep(
        store,
        runId,
        'train',
        'train.classifier',
        { train: dataset.sha256 },
        { model: { sha256: artifact, kind: 'model' } },
      );
      await store.registry.registerModelVersion(SYSTEM, { model, artifactSha256: artifact, runId });
    }

    it("finds the columns tagged in any version's training data", async () => {
      await versionTrainedOn('loans', [
        { name: 'age', type: 'integer', sensitive: true },
        { name: 'amount', type: 'number' },
        { name: 'class', type: 'string' },
      ]);
      await versionTrainedOn('loans', [
        { name: 'personal_status', type: 'string', sensitive: true },
        { name: 'amount', type: 'number' },
      ]);
      assert.deepEqual(await sensitiveTrainingColumns(store, ctx.artifacts, SYSTEM, 'loans'), [
        'age',
        'personal_status',
      ]);
    });

    it('finds none for a model trained on untagged data, or with no training data on record', async () => {
      await versionTrainedOn('plain', [{ name: 'amount', type: 'number' }]);
      assert.deepEqual(await sensitiveTrainingColumns(store, ctx.artifacts, SYSTEM, 'plain'), []);
      await store.artifacts.recordArtifact(SYSTEM, { sha256: sha('imported'), kind: 'model', size: 1 });
      await store.registry.registerModelVersion(SYSTEM, { model: 'imported', artifactSha256: sha('imported') });
      assert.deepEqual(await sensitiveTrainingColumns(store, ctx.artifacts, SYSTEM, 'imported'), []);
    });
  });
}
