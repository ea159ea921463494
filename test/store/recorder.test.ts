import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArtifactStore } from '../../activities/artifacts/store';
import type { SourceRef } from '../../activities/library';
import { cacheKey, type Store } from '../../store';
import { fakePlan, sha, startRun } from '../support/store-fixtures';
import { testBackends } from '../support/backends';
import type { StepEnvelope, StepRequest } from '../../workflows/protocol';
import { storeRecorder } from '../../workers/store-recorder';
import { SYSTEM } from '../../store/access';

const step = { name: 'test.digest', version: '1' };

for (const backend of testBackends()) {
  describe(`storeRecorder (${backend.name})`, () => {
    let store: Store;
    let artifacts: ArtifactStore;
    let dir: string;
    let recorder: ReturnType<typeof storeRecorder>;
    let dataset: {
      kind: 'dataset';
      uri: string;
      sha256: string;
      size: number;
      rows: number;
      columns: Array<{ name: string; type: 'number' }>;
    };
    let report: { kind: 'report'; uri: string; sha256: string; size: number };
    const source: SourceRef = { kind: 'file', uri: 'file:///data/in.csv', sha256: sha('in.csv bytes'), size: 12 };

    before(async () => {
      store = await backend.open();
      dir = await mkdtemp(join(tmpdir(), 'kiln-recorder-'));
      artifacts = new ArtifactStore(dir);
      recorder = storeRecorder(store, artifacts);
      dataset = {
        kind: 'dataset',
        ...(await artifacts.putJson({ rows: [1, 2] })),
        rows: 2,
        columns: [{ name: 'x', type: 'number' }],
      };
      report = { kind: 'report', ...(await artifacts.putJson({ report: 1 })) };
    });
    after(async () => {
      await backend.close();
      await rm(dir, { recursive: true, force: true });
    });

    const request = (runId: string, node = 'digest', cache = true): StepRequest => ({
      input: { dataset, key: 'k' },
      context: {
        workflowId: runId,
        runId: `t-${runId}`,
        pipeline: 'test-pipeline',
        planHash: fakePlan('test-pipeline').hash,
        node,
        step,
        cache,
      },
    });
    const envelope = (attempt = 1): StepEnvelope => ({ output: { report }, attempt });
    const edgesOf = async (runId: string) =>
      (await store.lineage.upstream(SYSTEM, `run:${runId}`)).edges
        .filter((e) => e.type === 'input' || e.type === 'output' || e.type === 'reused')
        .map((e) => `${e.type} ${e.from} ${e.to} ${e.port}`)
        .sort();
    const begin = async (runId: string) => {
      await startRun(store, runId);
      return { req: request(runId), key: cacheKey(step, request(runId).input) };
    };

    it('records a success delivered twice (a replayed activity) as one row with the same lineage', async () => {
      const { req, key } = await begin(`rec-twice-${backend.name}`);
      await recorder.started(req, key, 1);
      await recorder.succeeded(req, key, envelope(), [source]);
      const edges = await edgesOf(req.context.workflowId);
      await recorder.started(req, key, 1);
      await recorder.succeeded(req, key, envelope(), [source]);
      const rows = await store.steps.listSteps(SYSTEM, req.context.workflowId);
      assert.deepEqual(
        rows.map((r) => [r.nodeId, r.status, r.attempts, r.cacheKey]),
        [['digest', 'succeeded', 1, key]],
      );
      assert.deepEqual(await edgesOf(req.context.workflowId), edges);
      // The file it read, the dataset it took and the report it wrote, each once.
      assert.equal(edges.length, 3, edges.join('\n'));
      assert.deepEqual((await store.artifacts.getArtifact(SYSTEM, source.sha256))?.kind, 'file');
      assert.deepEqual((await store.artifacts.getArtifact(SYSTEM, dataset.sha256))?.stats, {
        rows: 2,
        columns: [{ name: 'x', type: 'number' }],
      });
    });

    it('records a ref passed through from input to output as read, not made by this step', async () => {
      const { req, key } = await begin(`rec-through-${backend.name}`);
      await recorder.started(req, key, 1);
      await recorder.succeeded(req, key, { output: { best: { dataset }, report }, attempt: 1 }, []);
      const edges = await edgesOf(req.context.workflowId);
      assert.equal(edges.filter((e) => e.startsWith('output')).length, 1, edges.join('\n'));
      assert.ok(edges.some((e) => e.startsWith('output') && e.includes(report.sha256)));
    });

    it("keeps the workflow's failure final: a stale attempt's late success does not overwrite it", async () => {
      const { req, key } = await begin(`rec-fail-${backend.name}`);
      await recorder.started(req, key, 1);
      const failure = {
        runId: req.context.workflowId,
        nodeId: 'digest',
        step: req.context.step,
        status: 'failed' as const,
        attempt: 1,
        error: { type: 'Timeout', message: 'timed out (START_TO_CLOSE)' },
      };
      await store.steps.recordStepFinish(SYSTEM, failure);
      await store.steps.recordStepFinish(SYSTEM, failure);
      await recorder.succeeded(req, key, envelope(), [source]);
      const rows = await store.steps.listSteps(SYSTEM, req.context.workflowId);
      assert.deepEqual(
        rows.map((r) => [r.status, r.attempts, r.errorType]),
        [['failed', 1, 'Timeout']],
      );
    });

    it("records a reused result once however often the hit is delivered, with the original's lineage as reused", async () => {
      const { req: original, key } = await begin(`rec-orig-${backend.name}`);
      await recorder.started(original, key, 1);
      await recorder.succeeded(original, key, envelope(), [source]);
      const { req } = await begin(`rec-hit-${backend.name}`);
      const first = await recorder.reuse(req, key, 1);
      const again = await recorder.reuse(req, key, 1);
      assert.deepEqual(first?.cached, { runId: original.context.workflowId, node: 'digest' });
      assert.deepEqual(again, first);
      assert.deepEqual(first?.output, { report });
      const rows = await store.steps.listSteps(SYSTEM, req.context.workflowId);
      const source0 = await store.steps.getStep(SYSTEM, { runId: original.context.workflowId, nodeId: 'digest' });
      assert.deepEqual(
        rows.map((r) => [r.status, r.cachedFrom]),
        [['cached', source0!.id]],
      );
      const edges = await edgesOf(req.context.workflowId);
      assert.ok(
        edges.some((e) => e.startsWith(`reused step:${rows[0]!.id} artifact:${report.sha256}`)),
        edges.join('\n'),
      );
      assert.equal(edges.filter((e) => e.includes(`step:${rows[0]!.id}`)).length, 3);
    });

    it('gives a retried attempt of a step that already succeeded its own result, leaving its record a succeeded producer', async () => {
      // Attempt 1 recorded its success, but Temporal never got the completion (a lost worker): attempt 2 starts.
      const { req, key } = await begin(`rec-lost-${backend.name}`);
      await recorder.started(req, key, 1);
      await recorder.succeeded(req, key, envelope(), [source]);
      const before = await store.steps.getStep(SYSTEM, { runId: req.context.workflowId, nodeId: 'digest' });
      const edges = await edgesOf(req.context.workflowId);
      const hit = await recorder.reuse(req, key, 2);
      assert.deepEqual(hit?.output, { report });
      assert.equal(hit?.cached, undefined, 'its own result is no cache hit');
      const after = await store.steps.getStep(SYSTEM, { runId: req.context.workflowId, nodeId: 'digest' });
      assert.equal(after?.status, 'succeeded');
      assert.equal(after?.cachedFrom, null);
      assert.deepEqual(await edgesOf(req.context.workflowId), edges);
      assert.equal(
        (await store.steps.lookupCache(SYSTEM, key))?.executionId,
        before!.id,
        'it is still the cached result for its key',
      );
      assert.deepEqual(after, before);
    });

    it('does not reuse a result whose files are gone, and records nothing for the miss', async () => {
      const gone = { kind: 'report' as const, ...(await artifacts.putJson({ report: 'to delete' })) };
      const { req: original } = await begin(`rec-gone-${backend.name}`);
      const input = { dataset, key: 'gone' };
      const goneReq: StepRequest = { ...original, input };
      const key = cacheKey(step, input);
      await recorder.started(goneReq, key, 1);
      await recorder.succeeded(goneReq, key, { output: { report: gone }, attempt: 1 }, []);
      await rm(artifacts.pathOf(gone.sha256));
      const { req } = await begin(`rec-gone-hit-${backend.name}`);
      assert.equal(await recorder.reuse({ ...req, input }, key, 1), undefined);
      assert.deepEqual(await store.steps.listSteps(SYSTEM, req.context.workflowId), []);
    });
  });
}
