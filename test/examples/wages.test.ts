import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { builtinSteps } from '../../activities';
import { ArtifactStore } from '../../activities/artifacts/store';
import { loadDataset } from '../../activities/common/dataset/dataset';
import type { DatasetRef } from '../../activities/refs';
import { approveUpdate, statusQuery } from '../../workflows';
import wages from '../../examples/wages';
import { engine } from '../fixtures/engine';

let kiln: Awaited<ReturnType<typeof engine>>;
before(async () => {
  kiln = await engine(builtinSteps);
});
after(async () => {
  await kiln?.stop();
});

it('runs the wages example end to end: median-wage label, held-out ROC AUC >= 0.75, approved, model stored', async () => {
  const handle = await kiln.start(wages);
  for (let waited = 0; ; waited += 200) {
    const release = (await handle.query(statusQuery).catch(() => undefined))?.nodes.find((n) => n.id === 'release');
    if (release?.status === 'waiting') {
      assert.ok((release.gate?.show.rocAuc as number) >= 0.75);
      assert.equal(release.gate?.show.medianWage, 7.78);
      break;
    }
    assert.ok(waited < 120_000, 'the release gate never started waiting');
    await new Promise((r) => setTimeout(r, 200));
  }
  await handle.executeUpdate(approveUpdate, { args: [{ gate: 'release', approved: true, by: 'pay-analyst' }] });
  const result = await handle.result();
  const output = result.output as {
    metrics: { rocAuc: number; rows: number };
    model: { uri: string; label: string; classes: string[] };
  };
  assert.ok(output.metrics.rocAuc >= 0.75, `held-out ROC AUC ${output.metrics.rocAuc}`);
  assert.equal(output.metrics.rows, 107);
  assert.equal(output.model.label, 'pay');
  assert.deepEqual([...output.model.classes].sort(), ['high', 'low']);
  assert.ok(
    result.nodes.every((n) => n.status === 'succeeded'),
    JSON.stringify(result.nodes.map((n) => [n.id, n.status])),
  );

  // The model never saw the wage it predicts: the split it trained on has the label and no wage.
  const split = (await handle.query(statusQuery)).nodes.find((n) => n.id === 'split')?.output as { train: DatasetRef };
  const train = await loadDataset(new ArtifactStore(kiln.artifactsDir), split.train);
  assert.ok(
    train.columns.some((c) => c.name === 'pay') && !train.columns.some((c) => c.name === 'wage'),
    JSON.stringify(train.columns),
  );
  const model = await new ArtifactStore(kiln.artifactsDir).readJson<{ kind: string }>(output.model.uri);
  assert.equal(model.kind, 'kiln.model');
});

it('stops the wages run at the AUC gate when the bar is above what the model reaches, naming metric, value and bar', async () => {
  const handle = await kiln.start(wages, { minAuc: 0.95 });
  const error = await handle.result().then(
    () => assert.fail('expected the gate to stop the run'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure);
  assert.equal(error.cause.type, 'GateFailed');
  assert.match(error.cause.message, /step 'gates' failed: roc_auc 0\.7\d+ is below the gate 0\.95/);
  const status = await handle.query(statusQuery);
  assert.equal(status.nodes.find((n) => n.id === 'evaluate')?.status, 'succeeded');
  assert.equal(status.nodes.find((n) => n.id === 'release')?.status, 'cancelled');
});
