import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { builtinSteps } from '../../activities';
import { fitFeatures, readCsv, splitDataset, trainClassifier } from '../../activities/steps';
import { compile, pipeline } from '../../dsl';
import type { Store } from '../../store';
import type { ArtifactNode, LineageGraph, RunNode, StepNode } from '../../store/lineage/graph';
import { testBackends } from '../support/backends';
import { engine } from '../fixtures/engine';
import { SYSTEM } from '../../store/access';

const csv = fileURLToPath(new URL('../../examples/data/german-credit.csv', import.meta.url));

const credit = pipeline(
  {
    name: 'store-lineage-credit',
    params: z.object({ epochs: z.number().int().positive().default(3), seed: z.number().int().default(11) }),
  },
  (p, params) => {
    const raw = p.step(readCsv, { path: csv, label: 'class' });
    const split = p.step(splitDataset, {
      dataset: raw.dataset,
      testFraction: 0.2,
      seed: params.seed,
      stratifyBy: 'class',
    });
    const features = p.step(fitFeatures, { dataset: split.train, label: 'class' });
    const trained = p.step(
      trainClassifier,
      {
        train: split.train,
        transform: features.transform,
        label: 'class',
        positiveClass: 'bad',
        architecture: 'logistic',
        epochs: params.epochs,
        learningRate: 0.05,
        batchSize: 1024,
        l2: 0.001,
        seed: params.seed,
      },
      { id: 'train' },
    );
    return { model: trained.model, dataset: raw.dataset, train: split.train, transform: features.transform };
  },
);

interface Output {
  model: { sha256: string };
  dataset: { sha256: string };
  train: { sha256: string };
  transform: { sha256: string };
}

const artifactsOf = (g: LineageGraph) => g.nodes.filter((n): n is ArtifactNode => n.type === 'artifact');
const stepsOf = (g: LineageGraph) => g.nodes.filter((n): n is StepNode => n.type === 'step');
const runsOf = (g: LineageGraph) => g.nodes.filter((n): n is RunNode => n.type === 'run');

for (const backend of testBackends()) {
  describe(`lineage of a trained model, recorded by the worker (${backend.name})`, () => {
    let store: Store;
    let kiln: Awaited<ReturnType<typeof engine>>;
    let runId: string;
    let output: Output;
    let fileSha: string;
    before(async () => {
      store = await backend.open();
      kiln = await engine(builtinSteps, { store });
      fileSha = createHash('sha256')
        .update(await readFile(csv))
        .digest('hex');
      const handle = await kiln.start(credit, { epochs: 3 });
      runId = handle.workflowId;
      output = (await handle.result()).output as Output;
    });
    after(async () => {
      await kiln?.stop();
      await backend.close();
    });

    const checkGraph = async (graph: LineageGraph, datasets: number) => {
      const file = artifactsOf(graph).find((a) => a.sha256 === fileSha);
      assert.ok(
        file,
        `no artifact with the CSV's sha256 ${fileSha} upstream; artifacts: ${artifactsOf(graph)
          .map((a) => `${a.kind}:${a.sha256.slice(0, 8)}`)
          .join(', ')}`,
      );
      assert.equal(file.kind, 'file');
      assert.equal(file.uri, pathToFileURL(csv).href);
      assert.equal(file.size, (await readFile(csv)).length);

      const byKind = (kind: string) =>
        artifactsOf(graph)
          .filter((a) => a.kind === kind)
          .map((a) => a.sha256)
          .sort();
      for (const sha of [output.dataset.sha256, output.train.sha256])
        assert.ok(byKind('dataset').includes(sha), `dataset ${sha} is upstream`);
      assert.equal(byKind('dataset').length, datasets);
      assert.deepEqual(byKind('transform'), [output.transform.sha256]);
      assert.equal(artifactsOf(graph).find((a) => a.sha256 === output.dataset.sha256)?.stats?.rows, 1000);

      const steps = stepsOf(graph);
      assert.deepEqual(
        steps.map((s) => s.nodeId).sort(),
        compile(credit)
          .nodes.map((n) => n.id)
          .sort(),
      );
      assert.deepEqual(steps.map((s) => s.step.name).sort(), [
        'data.readCsv',
        'data.split',
        'features.fit',
        'train.classifier',
      ]);
      assert.ok(
        steps.every((s) => s.runId === runId && s.status === 'succeeded' && s.attempts === 1),
        JSON.stringify(steps),
      );
      const reader = steps.find((s) => s.step.name === 'data.readCsv')!;
      assert.ok(
        graph.edges.some((e) => e.from === file.id && e.to === reader.id && e.type === 'input' && e.port === 'source'),
        'the CSV file is the input of the readCsv step',
      );

      const [run] = runsOf(graph);
      assert.equal(runsOf(graph).length, 1);
      assert.equal(run!.runId, runId);
      assert.equal(run!.workflowId, runId);
      assert.equal(run!.pipeline, 'store-lineage-credit');
      assert.equal(run!.planHash, compile(credit).hash);
      assert.deepEqual(run!.params, { epochs: 3, seed: 11 });
      assert.equal(run!.status, 'succeeded');
      assert.match(run!.code.commit ?? '', /^[0-9a-f]{40}$/);
      assert.equal(typeof run!.code.dirty, 'boolean');
      // Others commit to this repository while tests run: the recorded commit is HEAD or an ancestor of it.
      await promisify(execFile)('git', ['merge-base', '--is-ancestor', run!.code.commit!, 'HEAD']);
    };

    it('reaches the exact bytes of the CSV file from the model artifact, with datasets, transform, steps and run', async () => {
      const graph = await store.lineage.upstream(SYSTEM, { artifact: output.model.sha256 });
      assert.equal(graph.truncated, false);
      // Only what led to the model: the read dataset and the training split, not the test split.
      await checkGraph(graph, 2);
    });

    it('reaches the same from the run id', async () => {
      // The run's own steps with all their outputs, the test split too.
      await checkGraph(await store.lineage.upstream(SYSTEM, `run:${runId}`), 3);
    });

    it('finds the model downstream of the CSV file', async () => {
      const graph = await store.lineage.downstream(SYSTEM, fileSha);
      assert.ok(artifactsOf(graph).some((a) => a.sha256 === output.model.sha256 && a.kind === 'model'));
    });
  });
}
