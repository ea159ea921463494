import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { builtinSteps } from '../../activities';
import { readCsv } from '../../activities/data/steps';
import { fitFeatures } from '../../activities/features/steps';
import { trainRegressor } from '../../activities/train/steps';
import { pipeline } from '../../dsl';
import { SYSTEM } from '../../store/access';
import { statusQuery } from '../../workflows';
import { recordingEngine } from '../fixtures/recording-engine';
import { testBackends } from '../support/backends';

// The file: Infinity, -Infinity and 1e308 in a feature. Before, it passed ingest and the
// run failed only at the AUC gate with roc_auc 0.000; now the run fails where the value is.

const ingest = pipeline({ name: 'non-finite', params: z.object({ path: z.string() }) }, (p, params) => {
  const raw = p.step(readCsv, { path: params.path, label: 'y' });
  return p.step(fitFeatures, { dataset: raw.dataset, label: 'y' }, { id: 'fit' });
});

// Steps of 1e30 overflow float32 within a few epochs: the loss becomes Infinity, then NaN.
const diverging = pipeline({ name: 'diverging', params: z.object({ path: z.string() }) }, (p, params) => {
  const raw = p.step(readCsv, { path: params.path, label: 'y' });
  const fit = p.step(fitFeatures, { dataset: raw.dataset, label: 'y' }, { id: 'fit' });
  return p.step(
    trainRegressor,
    {
      train: raw.dataset,
      transform: fit.transform,
      label: 'y',
      architecture: 'linear',
      epochs: 50,
      learningRate: 1e30,
      batchSize: 64,
      seed: 1,
    },
    { id: 'train' },
  );
});

for (const backend of testBackends()) {
  describe(`a run over numbers that are not finite (${backend.name})`, () => {
    const env = recordingEngine(backend, builtinSteps);

    const runFailure = async (file: string, text: string, def: typeof ingest | typeof diverging = ingest) => {
      const path = join(env.kiln.artifactsDir, '..', `${file}-${backend.name}-${Date.now()}.csv`);
      await writeFile(path, text);
      const handle = await env.kiln.start(def, { path });
      const error = await handle.result().then(
        () => assert.fail('expected the run to fail'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure);
      return { handle, path, cause: error.cause, status: await handle.query(statusQuery) };
    };

    it('fails at ingest as NonFiniteData, naming file, line and column, in the status and the store', async () => {
      const { handle, path, cause, status } = await runFailure(
        'infinite',
        'x,y\n1,0\nInfinity,1\n-Infinity,0\n1e308,1\n',
      );
      assert.equal(cause.type, 'NonFiniteData');
      assert.deepEqual([status.status, status.error?.type, status.error?.node], ['failed', 'NonFiniteData', 'readCsv']);
      assert.match(
        status.error!.message,
        new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: line 3, column 1`),
      );
      assert.match(status.error!.message, /2 row\(s\) of the column/);
      assert.equal(status.nodes.find((n) => n.id === 'fit')?.status, 'cancelled');
      const run = await env.store.runs.getRun(SYSTEM, handle.workflowId);
      assert.equal(run?.status, 'failed');
      assert.equal(run?.errorType, 'NonFiniteData');
    });

    it('fails at fitting as NonFiniteData when finite values overflow the statistics (1e308)', async () => {
      const { cause, status } = await runFailure('overflow', 'x,y\n1e308,0\n-1e308,1\n1e308,0\n2,1\n');
      assert.equal(cause.type, 'NonFiniteData');
      assert.equal(status.error?.node, 'fit');
      assert.match(status.error!.message, /column 'x': its values \(up to 1\.00e\+308 on row 1\) overflow/);
    });

    it('fails at training as TrainingDiverged when the loss becomes NaN, with no model stored', async () => {
      const rows = Array.from({ length: 200 }, (_, i) => `${i},${i * 3}`).join('\n');
      const { handle, cause, status } = await runFailure('diverging', `x,y\n${rows}\n`, diverging);
      assert.equal(cause.type, 'TrainingDiverged');
      assert.deepEqual([status.error?.type, status.error?.node], ['TrainingDiverged', 'train']);
      assert.match(status.error!.message, /training diverged: the loss is (NaN|Infinity) after epoch \d+ of 50/);
      const steps = await env.store.steps.listSteps(SYSTEM, handle.workflowId);
      const train = steps.find((s) => s.nodeId === 'train');
      assert.deepEqual([train?.status, train?.errorType, train?.output ?? null], ['failed', 'TrainingDiverged', null]);
    });
  });
}
