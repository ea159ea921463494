import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { pipeline } from '../../../dsl';
import { ArtifactStore } from '../../../activities/artifacts/store';
import { dataSteps } from '../../../activities/data';
import type { QualityFailureDetails } from '../../../activities/data/quality';
import { checkQuality, readCsv, splitDataset } from '../../../activities/data/steps';
import { SYSTEM, type Store } from '../../../store';
import { testBackends } from '../../support/backends';
import { engine } from '../../fixtures/engine';

// The German credit file's personal_status values, which the tagged column must never show.
const STATUSES = ['male single', 'female div/dep/mar', 'male div/sep', 'male mar/wid'];

const credit = pipeline({ name: 'credit-sensitive' }, (p) => {
  const raw = p.step(readCsv, {
    path: 'examples/data/german-credit.csv',
    label: 'class',
    sensitive: { personal_status: 'hash', foreign_worker: 'drop' },
  });
  const split = p.step(splitDataset, { dataset: raw.dataset, testFraction: 0.2, seed: 7, stratifyBy: 'class' });
  const quality = p.step(checkQuality, {
    dataset: split.test,
    checks: [
      { column: 'personal_status', unique: true },
      { column: 'personal_status', allowed: ['nobody'] },
    ],
  });
  return { passed: quality.passed };
});

for (const backend of testBackends()) {
  describe(`sensitive columns in a pipeline on Temporal (${backend.name})`, () => {
    let store: Store;
    let kiln: Awaited<ReturnType<typeof engine>>;
    before(async () => {
      store = await backend.open();
      kiln = await engine(dataSteps, { store });
    });
    after(async () => {
      await kiln?.stop();
      await backend.close();
    });

    it('fails the quality step on the tagged column showing only keyed hashes, and audits the read', async () => {
      const handle = await kiln.start(credit);
      const error = await handle.result().then(
        () => assert.fail('expected the run to fail'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof WorkflowFailedError);
      let failure: ApplicationFailure | undefined;
      for (let e: unknown = error; e instanceof Error; e = e.cause)
        if (e instanceof ApplicationFailure && e.type === 'DataQualityFailed') failure = e;
      assert.ok(failure, 'a DataQualityFailed failure in the cause chain');
      assert.match(
        failure.message,
        /column 'personal_status' unique: \d+ rows repeat an earlier value, such as hmac-sha256:/,
      );
      const details = failure.details?.[0] as QualityFailureDetails;
      const report = await new ArtifactStore(kiln.artifactsDir).readJson(details.report.uri);
      for (const status of STATUSES) {
        for (const [where, text] of Object.entries({
          message: failure.message,
          report: JSON.stringify(report),
        }))
          assert.ok(!text.includes(status), `'${status}' in the ${where}`);
      }

      const events = await store.audit.listAudit(SYSTEM, { action: 'dataset.read_sensitive' });
      const read = events.find((e) => (e.after as { run?: string }).run === handle.workflowId);
      assert.ok(read, 'the read is audited');
      assert.equal(
        read.actor,
        `run:${handle.workflowId}`,
        'a run started without a principal on record acts as itself',
      );
      assert.deepEqual((read.after as { columns: string[] }).columns, ['personal_status', 'foreign_worker']);
    });
  });
}
