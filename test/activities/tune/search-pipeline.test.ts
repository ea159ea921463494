import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { builtinSteps } from '../../../activities';
import {
  evaluateClassifier,
  fitFeatures,
  gridSearch,
  readCsv,
  recordTrial,
  selectTrial,
  splitDataset,
  trainClassifier,
} from '../../../activities/steps';
import { follow } from '../../../cli/follow';
import { pipeline } from '../../../dsl';
import { openStore, type Store } from '../../../store';
import { statusQuery } from '../../../workflows';
import { engine } from '../../fixtures/engine';
import { SYSTEM } from '../../../store/access';

let kiln: Awaited<ReturnType<typeof engine>>;
let store: Store;
before(async () => {
  store = await openStore({ dir: 'memory://' });
  kiln = await engine(builtinSteps, { store });
});
after(async () => {
  await kiln?.stop();
  await store?.close();
});

const space = { learningRate: [0.05, 0.3], l2: [0, 0.01] } as const;
const tuned = pipeline({ name: 'tuned-credit' }, (p) => {
  const raw = p.step(readCsv, { path: 'examples/data/german-credit.csv', label: 'class' });
  const split = p.step(splitDataset, { dataset: raw.dataset, testFraction: 0.2, seed: 7, stratifyBy: 'class' });
  const features = p.step(fitFeatures, { dataset: split.train, label: 'class' });
  const search = p.step(gridSearch(space), {
    space,
    objective: { metric: 'rocAuc', goal: 'max' },
    experiment: 'credit-lr-l2',
  });
  const trials = p.map(
    search.trials,
    (trial) => {
      const trained = p.step(
        trainClassifier,
        {
          train: split.train,
          transform: features.transform,
          label: 'class',
          positiveClass: 'bad',
          architecture: 'logistic',
          epochs: 40,
          batchSize: 1024,
          seed: 7,
          learningRate: trial.params.learningRate,
          l2: trial.params.l2,
        },
        { id: 'train' },
      );
      const scored = p.step(evaluateClassifier, { model: trained.model, dataset: split.test }, { id: 'evaluate' });
      return p.step(recordTrial, {
        experiment: search.experiment,
        objective: search.objective,
        trial,
        metrics: scored.metrics,
        model: trained.model,
      }).trial;
    },
    { id: 'trials', parallelism: 2 },
  );
  return p.step(selectTrial, { trials, objective: search.objective });
});

it('runs a grid of 4 trials on German credit, selects the best by held-out ROC AUC and records every trial in the experiment', async () => {
  const handle = await kiln.start(tuned);
  const lines: string[] = [];
  const followed = await follow(handle, { print: (line) => lines.push(line), intervalMs: 100 });
  assert.equal(followed.status, 'succeeded', lines.join('\n'));
  const result = await handle.result();
  const output = result.output as {
    best: { index: number; params: Record<string, number>; metrics: Record<string, number>; model: { sha256: string } };
    ranking: Array<{ index: number; value: number }>;
  };

  const recorded = [0, 1, 2, 3].map((i) => {
    const node = result.nodes.find((n) => n.id === `trials[${i}].record`);
    assert.equal(node?.status, 'succeeded', `trial ${i}`);
    return (
      node!.output as {
        trial: { params: Record<string, number>; metrics: Record<string, number>; model: { sha256: string } };
      }
    ).trial;
  });
  assert.deepEqual(
    recorded.map((t) => t.params),
    [
      { learningRate: 0.05, l2: 0 },
      { learningRate: 0.05, l2: 0.01 },
      { learningRate: 0.3, l2: 0 },
      { learningRate: 0.3, l2: 0.01 },
    ],
  );
  for (const t of recorded) {
    assert.equal(t.metrics.rows, 200);
    assert.ok(t.metrics.rocAuc! > 0 && t.metrics.rocAuc! <= 1, `rocAuc ${t.metrics.rocAuc}`);
  }
  const aucs = recorded.map((t) => t.metrics.rocAuc!);
  assert.ok(output.best.metrics.rocAuc! > 0.7, `the best of ${aucs.join(', ')} beats 0.7 held-out ROC AUC`);
  const bestIndex = aucs.indexOf(Math.max(...aucs));
  assert.equal(output.best.index, bestIndex, `ROC AUC by trial: ${aucs.join(', ')}`);
  assert.deepEqual(output.best.metrics, recorded[bestIndex]!.metrics);
  assert.equal(output.best.model.sha256, recorded[bestIndex]!.model.sha256);
  assert.deepEqual(
    output.ranking.map((r) => r.value),
    [...aucs].sort((a, b) => b - a),
  );

  const trials = await store.experiments.listTrials(SYSTEM, 'credit-lr-l2', { metric: 'rocAuc', goal: 'max' });
  assert.equal(trials.length, 4);
  assert.deepEqual(trials[0]!.params, output.best.params);
  assert.equal(trials[0]!.artifactSha256, output.best.model.sha256);
  for (const t of trials) {
    assert.equal(t.status, 'succeeded');
    assert.equal(t.key.startsWith(`${handle.workflowId}/`), true);
    assert.equal(t.runId, handle.workflowId, 'the trial links to the run that tried it');
    const index = Number(/^trials\[(\d+)\]\.record$/.exec(t.key.slice(handle.workflowId.length + 1))?.[1]);
    assert.deepEqual(t.metrics, recorded[index]!.metrics, `trial ${t.key}`);
  }

  const best = `best rocAuc ${+aucs[bestIndex]!.toFixed(4)} (trial ${bestIndex})`;
  assert.ok(
    lines.some((l) => /^ {2}✔ trials /.test(l) && l.endsWith(`4 of 4 done, ${best}`)),
    lines.join('\n'),
  );
  const status = await handle.query(statusQuery);
  assert.equal(status.nodes.find((n) => n.id === 'trials')?.items, 4);

  // Run again with the same inputs: training and evaluation come from the cache, but the search and
  // its trials are recorded in the experiment again, under the new run.
  const again = await kiln.start(tuned);
  const rerun = await again.result();
  const node = (id: string) => rerun.nodes.find((n) => n.id === id);
  assert.deepEqual(node('trials[0].train')?.cached, { runId: handle.workflowId, node: 'trials[0].train' });
  for (const id of ['grid', 'trials[0].record', 'trials[3].record']) {
    assert.equal(node(id)?.status, 'succeeded', id);
    assert.equal(node(id)!.cached, undefined, `${id} ran again`);
  }
  const both = await store.experiments.listTrials(SYSTEM, 'credit-lr-l2', { metric: 'rocAuc', goal: 'max' });
  assert.equal(both.length, 8);
  assert.deepEqual(
    both
      .filter((t) => t.runId === again.workflowId)
      .map((t) => t.key)
      .sort(),
    [0, 1, 2, 3].map((i) => `${again.workflowId}/trials[${i}].record`),
  );
});
