import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { pipeline } from '../../../dsl';
import { ArtifactStore } from '../../../activities/artifacts/store';
import { dataSteps } from '../../../activities/data';
import type { QualityFailureDetails, QualityReport } from '../../../activities/data/quality';
import { checkQuality, readCsv, splitDataset } from '../../../activities/data/steps';
import { engine } from '../../fixtures/engine';

let kiln: Awaited<ReturnType<typeof engine>>;
before(async () => {
  kiln = await engine(dataSteps);
});
after(async () => {
  await kiln?.stop();
});

const credit = (maxAge: number) =>
  pipeline({ name: 'credit-quality' }, (p) => {
    const raw = p.step(readCsv, { path: 'examples/data/german-credit.csv', label: 'class' });
    const split = p.step(splitDataset, { dataset: raw.dataset, testFraction: 0.2, seed: 7, stratifyBy: 'class' });
    const quality = p.step(checkQuality, {
      dataset: split.test,
      checks: [
        { column: 'age', type: 'number', notNull: true, min: 18, max: maxAge },
        { column: 'class', allowed: ['good', 'bad'] },
        { rowCount: { min: 150 } },
        { column: 'credit_amount', distribution: { reference: split.train, maxPsi: 0.2 } },
      ],
    });
    return { passed: quality.passed, report: quality.report };
  });

/** The deepest ApplicationFailure of a type in a failure's cause chain: the step's own, not the run's restatement. */
function findFailure(error: unknown, type: string): ApplicationFailure | undefined {
  let found: ApplicationFailure | undefined;
  for (let e = error; e instanceof Error; e = e.cause)
    if (e instanceof ApplicationFailure && e.type === type) found = e;
  return found;
}

describe('data.quality in a pipeline on Temporal', () => {
  it('passes the German credit test split against its training split', async () => {
    const result = await (await kiln.start(credit(100))).result();
    const output = result.output as { passed: boolean; report: { uri: string } };
    assert.equal(output.passed, true);
    const report = await new ArtifactStore(kiln.artifactsDir).readJson<QualityReport>(output.report.uri);
    assert.deepEqual(
      report.checks.map((c) => c.rule),
      ['type', 'notNull', 'range', 'allowed', 'rowCount', 'distribution'],
    );
  });

  it('stops the run with DataQualityFailed naming the column, rule and rows, after writing the report', async () => {
    const handle = await kiln.start(credit(60));
    const error = await handle.result().then(
      () => assert.fail('expected the run to fail'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof WorkflowFailedError);
    assert.match(
      error.cause!.message,
      /step 'quality' failed: data quality failed: column 'age' range \[18, 60\]: \d+ rows out of range \(first rows \d+, \d+, \d+, \d+, \d+\)$/,
    );
    const failure = findFailure(error, 'DataQualityFailed');
    assert.ok(failure, 'a DataQualityFailed failure in the cause chain');
    assert.equal(failure.nonRetryable, true);
    const details = failure.details?.[0] as QualityFailureDetails;
    const report = await new ArtifactStore(kiln.artifactsDir).readJson<QualityReport>(details.report.uri);
    assert.equal(report.passed, false);
    assert.deepEqual(
      report.checks.filter((c) => !c.passed).map((c) => c.rule),
      ['range'],
    );
    const history = await handle.fetchHistory();
    const attempts = history.events!.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'data.quality',
    ).length;
    assert.equal(attempts, 1);
  });
});
