import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Store } from '../../store/db';
import type { ArtifactNode, LineageGraph, RunNode, StepNode } from '../../store/lineage/graph';
import { parseLineageTarget } from '../../store/lineage/graph';
import { renderLineage } from '../../store/lineage/render';
import { fakePlan, runStep, sha } from '../support/store-fixtures';
import { testBackends } from '../support/backends';
import { SYSTEM } from '../../store/access';

const csv = sha('credit.csv bytes');
const ds = (name: string) => ({ sha256: sha(name), kind: 'dataset' });
const plan = fakePlan('credit-risk', '2.0.0');

// ingest(csv) -> raw; split(raw) -> train, test; fit(train) -> transform;
// train(train, transform) -> model; evaluate(model, test, transform) -> report; registered as credit@1.
async function creditRun(store: Store, runId: string, options: { attempts?: number } = {}) {
  await store.runs.recordRunStart(SYSTEM, {
    runId,
    workflowId: `wf-${runId}`,
    plan,
    params: { minAuc: 0.7, label: 'default' },
    code: { commit: 'c0ffee123456', dirty: true },
  });
  await store.artifacts.recordArtifact(SYSTEM, {
    sha256: csv,
    kind: 'file',
    size: 2048,
    mediaType: 'text/csv',
    uri: 'file:examples/data/credit.csv',
  });
  await runStep(store, runId, 'ingest', 'ingestCsv', { file: csv }, { dataset: ds('raw') });
  await runStep(store, runId, 'split', 'split', { dataset: sha('raw') }, { train: ds('train'), test: ds('test') });
  await runStep(
    store,
    runId,
    'fit',
    'fitTransform',
    { dataset: sha('train') },
    { transform: { sha256: sha('transform'), kind: 'transform' } },
  );
  await runStep(
    store,
    runId,
    'train',
    'trainClassifier',
    { train: sha('train'), transform: sha('transform') },
    { model: { sha256: sha('model'), kind: 'model' } },
    options,
  );
  await runStep(
    store,
    runId,
    'evaluate',
    'evaluate',
    { model: sha('model'), test: sha('test'), transform: sha('transform') },
    { report: { sha256: sha('report'), kind: 'report' } },
  );
  await store.runs.recordRunFinish(SYSTEM, { runId, status: 'succeeded' });
}

const ids = (g: LineageGraph, type: string) =>
  g.nodes
    .filter((n) => n.type === type)
    .map((n) => n.id)
    .sort();

for (const backend of testBackends()) {
  describe(`lineage on ${backend.name}`, () => {
    let store: Store;
    before(async () => {
      store = await backend.open();
      await creditRun(store, 'credit-1', { attempts: 2 });
      const train = await store.steps.getStep(SYSTEM, { runId: 'credit-1', nodeId: 'train' });
      await store.registry.registerModelVersion(SYSTEM, {
        model: 'credit',
        artifactSha256: sha('model'),
        metrics: { auc: 0.81 },
        runId: 'credit-1',
        stepExecutionId: train!.id,
      });
      // A second dataset version derived from the first, and a model trained on it in another run.
      await store.runs.recordRunStart(SYSTEM, {
        runId: 'credit-2',
        workflowId: 'wf-credit-2',
        plan,
        params: { minAuc: 0.75 },
        code: { commit: 'feedbead', dirty: false },
      });
      await runStep(store, 'credit-2', 'append', 'appendRows', { base: sha('raw') }, { dataset: ds('raw-v2') });
      await runStep(
        store,
        'credit-2',
        'train',
        'trainClassifier',
        { train: sha('raw-v2') },
        { model: { sha256: sha('model-v2'), kind: 'model' } },
      );
      await store.registry.registerModelVersion(SYSTEM, {
        model: 'credit',
        artifactSha256: sha('model-v2'),
        metrics: { auc: 0.84 },
        runId: 'credit-2',
      });
      await store.registry.promote(SYSTEM, 'credit', 2, 'production');
    });
    after(() => backend.close());

    it('traces a model version back to the exact CSV file hash, with code version, plan hash, params and steps', async () => {
      const graph = await store.lineage.upstream(SYSTEM, 'credit@1');
      assert.equal(graph.root, 'model:credit@1');
      assert.ok(ids(graph, 'artifact').includes(`artifact:${csv}`));
      assert.deepEqual(
        graph.nodes
          .filter((n): n is StepNode => n.type === 'step')
          .map((s) => s.nodeId)
          .sort(),
        ['fit', 'ingest', 'split', 'train'],
      );
      assert.equal(graph.nodes.find((n): n is StepNode => n.type === 'step' && n.nodeId === 'train')!.attempts, 2);
      const [run] = graph.nodes.filter((n): n is RunNode => n.type === 'run');
      assert.deepEqual(
        { id: run!.runId, plan: run!.planHash, version: run!.pipelineVersion, params: run!.params, code: run!.code },
        {
          id: 'credit-1',
          plan: plan.hash,
          version: '2.0.0',
          params: { minAuc: 0.7, label: 'default' },
          code: { commit: 'c0ffee123456', dirty: true },
        },
      );
      assert.ok(
        !ids(graph, 'artifact').includes(`artifact:${sha('report')}`),
        'evaluation is not upstream of the model',
      );
      assert.ok(
        !ids(graph, 'artifact').includes(`artifact:${sha('test')}`),
        'the test split is not upstream of the model',
      );
      assert.equal(graph.truncated, false);
      assert.deepEqual(JSON.parse(JSON.stringify(graph)), graph);
    });

    it('follows dataset versions across runs and resolves an alias', async () => {
      const graph = await store.lineage.upstream(SYSTEM, 'credit@production');
      assert.equal(graph.root, 'model:credit@2');
      assert.deepEqual(ids(graph, 'run'), ['run:credit-1', 'run:credit-2']);
      assert.ok(ids(graph, 'artifact').includes(`artifact:${csv}`));
      assert.ok(ids(graph, 'artifact').includes(`artifact:${sha('raw-v2')}`));
    });

    it('stops at the depth bound and says so', async () => {
      const graph = await store.lineage.upstream(SYSTEM, 'credit@2', { maxDepth: 2 });
      assert.equal(graph.truncated, true);
      assert.ok(!ids(graph, 'artifact').includes(`artifact:${csv}`));
      assert.ok(ids(graph, 'artifact').includes(`artifact:${sha('raw')}`), 'the input at the bound is shown');
      assert.deepEqual(ids(graph, 'run'), ['run:credit-2']);
    });

    it('lists everything derived from a dataset version, down to registered models', async () => {
      const graph = await store.lineage.downstream(SYSTEM, sha('raw'));
      assert.deepEqual(ids(graph, 'model'), ['model:credit@1', 'model:credit@2']);
      const artifacts = ids(graph, 'artifact');
      for (const name of ['raw', 'train', 'test', 'transform', 'model', 'report', 'raw-v2', 'model-v2'])
        assert.ok(artifacts.includes(`artifact:${sha(name)}`), name);
      assert.ok(!artifacts.includes(`artifact:${csv}`), 'the source file is upstream, not downstream');
      assert.deepEqual(
        graph.nodes.find((n) => n.type === 'model' && n.version === 2)?.type === 'model' &&
          graph.nodes.find((n) => n.type === 'model' && n.version === 2),
        {
          type: 'model',
          id: 'model:credit@2',
          name: 'credit',
          version: 2,
          artifactSha256: sha('model-v2'),
          metrics: { auc: 0.84 },
          aliases: ['production'],
          runId: 'credit-2',
        },
      );
    });

    it('gives a run its steps, their inputs and outputs, and what they came from', async () => {
      const graph = await store.lineage.upstream(SYSTEM, { run: 'credit-2' });
      assert.equal(graph.root, 'run:credit-2');
      assert.ok(ids(graph, 'artifact').includes(`artifact:${sha('model-v2')}`));
      assert.ok(ids(graph, 'artifact').includes(`artifact:${csv}`));
      const byRun = await store.lineage.upstream(SYSTEM, 'credit-1');
      assert.equal(byRun.root, 'run:credit-1');
    });

    it('shows a cache hit in the run that reused the result', async () => {
      const split = await store.steps.getStep(SYSTEM, { runId: 'credit-1', nodeId: 'split' });
      await store.runs.recordRunStart(SYSTEM, {
        runId: 'credit-3',
        workflowId: 'wf-credit-3',
        plan,
        params: {},
        code: { commit: 'feedbead', dirty: false },
      });
      await store.steps.recordCacheHit(SYSTEM, {
        runId: 'credit-3',
        nodeId: 'split',
        step: { name: 'split', version: '1' },
        cacheKey: 'k',
        from: split!.id,
      });
      const graph = await store.lineage.upstream(SYSTEM, { run: 'credit-3' });
      const hit = graph.nodes.find((n): n is StepNode => n.type === 'step' && n.runId === 'credit-3')!;
      assert.equal(hit.status, 'cached');
      assert.ok(graph.edges.some((e) => e.type === 'cached_from' && e.from === hit.id && e.to === `step:${split!.id}`));
      assert.ok(ids(graph, 'artifact').includes(`artifact:${csv}`));
      assert.match(renderLineage(graph), /cached from/);
    });

    it('renders a tree for the terminal that names the CSV, the run, its code and plan', async () => {
      const text = renderLineage(await store.lineage.upstream(SYSTEM, 'credit@1'));
      assert.match(text, /^upstream of model credit@1/);
      assert.match(text, /step train \(trainClassifier@1\) succeeded, attempts 2/);
      assert.match(text, new RegExp(`file ${csv.slice(0, 12)}`));
      assert.match(
        text,
        new RegExp(`credit-1 +credit-risk@2\\.0\\.0 +plan ${plan.hash.slice(0, 12)} +code c0ffee123456 \\(dirty\\)`),
      );
      assert.match(text, /sources:\n {2}file [0-9a-f]{64} {2}file:examples\/data\/credit.csv/);
      assert.match(text, /\(shown above\)/, 'the train split feeds fit and train: printed once');
      const down = renderLineage(await store.lineage.downstream(SYSTEM, sha('raw')));
      assert.match(down, /^downstream of dataset/);
      assert.match(down, /models:\n {2}model credit@1 auc=0.8100\n {2}model credit@2 \[production\] auc=0.8400/);
    });

    it('reports what it cannot find by name', async () => {
      await assert.rejects(store.lineage.upstream(SYSTEM, 'credit@9'), /model version 'credit@9'/);
      await assert.rejects(store.lineage.upstream(SYSTEM, 'nope@1'), /model 'nope'/);
      await assert.rejects(store.lineage.upstream(SYSTEM, 'no-such-run'), /run 'no-such-run'/);
      await assert.rejects(store.lineage.upstream(SYSTEM, { artifact: sha('unknown') }), /artifact/);
    });

    it('reads command-line targets', () => {
      assert.deepEqual(parseLineageTarget(`artifact:sha256:${csv}`), { artifact: csv });
      assert.deepEqual(parseLineageTarget('credit@3'), { model: 'credit', version: 3 });
      assert.deepEqual(parseLineageTarget('credit@production'), { model: 'credit', version: 'production' });
      assert.deepEqual(parseLineageTarget('run:abc'), { run: 'abc' });
      assert.deepEqual(parseLineageTarget(csv.slice(0, 10)), { artifact: csv.slice(0, 10) });
    });

    it('resolves a unique artifact prefix', async () => {
      const graph = await store.lineage.upstream(SYSTEM, sha('model').slice(0, 12));
      assert.equal(graph.root, `artifact:${sha('model')}`);
      assert.ok(graph.nodes.some((n): n is ArtifactNode => n.type === 'artifact' && n.sha256 === csv));
    });
  });
}
