import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { builtinSteps } from '../../activities';
import { ArtifactStore } from '../../activities/artifacts/store';
import { approveUpdate, statusQuery } from '../../workflows';
import creditRisk from '../../examples/credit-risk';
import { engine } from '../fixtures/engine';

let kiln: Awaited<ReturnType<typeof engine>>;
before(async () => { kiln = await engine(builtinSteps); });
after(async () => { await kiln?.stop(); });

it('runs the credit-risk example end to end: held-out ROC AUC >= 0.75, approved, model stored', async () => {
  const handle = await kiln.start(creditRisk);
  for (let waited = 0; ; waited += 200) {
    const release = (await handle.query(statusQuery).catch(() => undefined))?.nodes.find((n) => n.id === 'release');
    if (release?.status === 'waiting') {
      assert.ok((release.gate?.show.rocAuc as number) >= 0.75);
      break;
    }
    assert.ok(waited < 120_000, 'the release gate never started waiting');
    await new Promise((r) => setTimeout(r, 200));
  }
  await handle.executeUpdate(approveUpdate, { args: [{ gate: 'release', approved: true, by: 'risk-officer' }] });
  const result = await handle.result();
  const output = result.output as { metrics: { rocAuc: number; accuracy: number; rows: number }; model: { uri: string; sha256: string } };
  assert.ok(output.metrics.rocAuc >= 0.75, `held-out ROC AUC ${output.metrics.rocAuc}`);
  assert.equal(output.metrics.rows, 200);
  assert.ok(result.nodes.every((n) => n.status === 'succeeded'), JSON.stringify(result.nodes.map((n) => [n.id, n.status])));
  const model = await new ArtifactStore(kiln.artifactsDir).readJson<{ kind: string; layers: unknown[] }>(output.model.uri);
  assert.equal(model.kind, 'kiln.model');
});

it('stops the run at the AUC gate when the bar is out of reach, naming metric, value and bar', async () => {
  const handle = await kiln.start(creditRisk, { minAuc: 0.99, epochs: 20 });
  const error = await handle.result().then(() => assert.fail('expected the gate to stop the run'), (e: unknown) => e);
  assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure);
  assert.equal(error.cause.type, 'GateFailed');
  assert.match(error.cause.message, /step 'gates' failed: roc_auc 0\.\d+ is below the gate 0\.99/);
  assert.equal((await handle.query(statusQuery)).nodes.find((n) => n.id === 'release')?.status, 'cancelled');
});

it('fails at ingest on a malformed CSV, naming the line, before anything else runs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-bad-csv-'));
  const path = join(dir, 'bad.csv');
  await writeFile(path, 'checking_status,duration,class\nA11,6,good\nA12,48\nA14,12,good\n');
  const handle = await kiln.start(creditRisk, { data: path });
  const error = await handle.result().then(() => assert.fail('expected ingest to fail'), (e: unknown) => e);
  assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure);
  assert.equal(error.cause.type, 'InvalidData');
  assert.match(error.cause.message, /step 'readCsv' failed: .*line 3/);
  const status = await handle.query(statusQuery);
  assert.equal(status.nodes.find((n) => n.id === 'readCsv')?.attempts, 1);
  assert.equal(status.nodes.find((n) => n.id === 'split')?.status, 'cancelled');
});
