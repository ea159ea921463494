import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { cacheKey } from '../../store/cache-key';
import type { Store } from '../../store/db';
import { lineageEdges } from '../../store/schema/lineage';
import { stepExecutions } from '../../store/schema/steps';
import { fakePlan, runStep, sha, startRun } from '../support/store-fixtures';
import { testBackends } from '../support/backends';
import { SYSTEM } from '../../store/access';

for (const backend of testBackends()) {
  describe(`run and step recording on ${backend.name}`, () => {
    let store: Store;
    before(async () => {
      store = await backend.open();
    });
    after(() => backend.close());

    it('records a run once however often its start is replayed, and keeps the first finish time', async () => {
      await startRun(store, 'run-replay');
      await startRun(store, 'run-replay');
      const first = await store.runs.recordRunFinish(SYSTEM, { runId: 'run-replay', status: 'succeeded' });
      await new Promise((r) => setTimeout(r, 5));
      const again = await store.runs.recordRunFinish(SYSTEM, { runId: 'run-replay', status: 'succeeded' });
      assert.equal(again.finishedAt?.getTime(), first.finishedAt?.getTime());
      const runs = await store.runs.listRuns(SYSTEM, { pipeline: 'test-pipeline' });
      assert.equal(runs.filter((r) => r.id === 'run-replay').length, 1);
      assert.deepEqual(
        { commit: runs[0]!.codeCommit, dirty: runs[0]!.codeDirty },
        { commit: 'abc1234def', dirty: false },
      );
    });

    it('refuses the same run id with another plan', async () => {
      await assert.rejects(startRun(store, 'run-replay', fakePlan('other-pipeline')), { name: 'ConflictError' });
    });

    it('writes one step record with attempts = n for a step retried n times', async () => {
      await startRun(store, 'run-retry');
      for (let attempt = 1; attempt <= 3; attempt++) {
        await store.steps.recordStepStart(SYSTEM, {
          runId: 'run-retry',
          nodeId: 'train',
          step: { name: 'trainClassifier', version: '1' },
          attempt,
        });
        if (attempt < 3)
          await store.steps.recordStepFinish(SYSTEM, {
            runId: 'run-retry',
            nodeId: 'train',
            status: 'failed',
            attempt,
            error: { type: 'Timeout', message: 'worker lost' },
          });
      }
      await store.steps.recordStepStart(SYSTEM, {
        runId: 'run-retry',
        nodeId: 'train',
        step: { name: 'trainClassifier', version: '1' },
        attempt: 2,
      });
      const done = await store.steps.recordStepFinish(SYSTEM, {
        runId: 'run-retry',
        nodeId: 'train',
        status: 'succeeded',
        attempt: 3,
        output: { ok: true },
      });
      await store.steps.recordStepFinish(SYSTEM, {
        runId: 'run-retry',
        nodeId: 'train',
        status: 'succeeded',
        attempt: 3,
        output: { ok: true },
      });
      const rows = await store.db.select().from(stepExecutions).where(eq(stepExecutions.runId, 'run-retry'));
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.attempts, 3);
      assert.equal(rows[0]!.status, 'succeeded');
      assert.equal(rows[0]!.errorMessage, null);
      assert.equal(rows[0]!.finishedAt?.getTime(), done.finishedAt?.getTime());
    });

    it("keeps a later attempt's success when a stale earlier attempt reports its own success late", async () => {
      await startRun(store, 'run-stale');
      const step = { name: 'trainClassifier', version: '1' };
      await store.steps.recordStepStart(SYSTEM, { runId: 'run-stale', nodeId: 'train', step, attempt: 1 });
      await store.steps.recordStepStart(SYSTEM, { runId: 'run-stale', nodeId: 'train', step, attempt: 2 });
      await store.steps.recordStepFinish(SYSTEM, {
        runId: 'run-stale',
        nodeId: 'train',
        status: 'succeeded',
        attempt: 2,
        output: { ok: 2 },
      });
      // Attempt 1 timed out long ago but only now gets to say so.
      await store.steps.recordStepFinish(SYSTEM, {
        runId: 'run-stale',
        nodeId: 'train',
        status: 'succeeded',
        attempt: 1,
        output: { ok: 1 },
      });
      const row = await store.steps.getStep(SYSTEM, { runId: 'run-stale', nodeId: 'train' });
      assert.deepEqual([row?.status, row?.attempts, row?.output, row?.errorMessage], ['succeeded', 2, { ok: 2 }, null]);
    });

    it("takes the workflow's outcome over a success it never received, and nothing after it", async () => {
      await startRun(store, 'run-lost-success');
      const step = { name: 'trainClassifier', version: '1' };
      await store.steps.recordStepStart(SYSTEM, { runId: 'run-lost-success', nodeId: 'train', step, attempt: 1 });
      await store.steps.recordStepFinish(SYSTEM, {
        runId: 'run-lost-success',
        nodeId: 'train',
        status: 'succeeded',
        attempt: 1,
        output: { ok: 1 },
      });
      const timedOut = { type: 'Timeout', message: 'timed out (HEARTBEAT)' };
      await store.steps.recordStepFinish(SYSTEM, {
        runId: 'run-lost-success',
        nodeId: 'train',
        step,
        status: 'failed',
        attempt: 1,
        error: timedOut,
      });
      await store.steps.recordStepFinish(SYSTEM, {
        runId: 'run-lost-success',
        nodeId: 'train',
        step,
        status: 'cancelled',
        attempt: 1,
      });
      const row = await store.steps.getStep(SYSTEM, { runId: 'run-lost-success', nodeId: 'train' });
      assert.deepEqual([row?.status, row?.errorType], ['failed', 'Timeout']);
    });

    it('reopens a failed step when Temporal resets it, its attempts counting anew', async () => {
      await startRun(store, 'run-reset');
      const step = { name: 'trainClassifier', version: '1' };
      const failedAt = new Date(Date.now() - 60_000);
      await store.steps.recordStepStart(SYSTEM, {
        runId: 'run-reset',
        nodeId: 'train',
        step,
        attempt: 3,
        startedAt: new Date(failedAt.getTime() - 60_000),
      });
      await store.steps.recordStepFinish(SYSTEM, {
        runId: 'run-reset',
        nodeId: 'train',
        status: 'failed',
        attempt: 3,
        error: { type: 'Error', message: 'boom' },
        finishedAt: failedAt,
      });
      await store.steps.recordStepStart(SYSTEM, { runId: 'run-reset', nodeId: 'train', step, attempt: 1 });
      await store.steps.recordStepFinish(SYSTEM, {
        runId: 'run-reset',
        nodeId: 'train',
        status: 'succeeded',
        attempt: 1,
        output: { ok: 'after reset' },
      });
      const row = await store.steps.getStep(SYSTEM, { runId: 'run-reset', nodeId: 'train' });
      assert.deepEqual([row?.status, row?.attempts, row?.output], ['succeeded', 1, { ok: 'after reset' }]);
    });

    it('keeps a step the workflow cancelled ended when its start is written after the cancellation', async () => {
      await startRun(store, 'run-late-start');
      const step = { name: 'trainClassifier', version: '1' };
      const startedAt = new Date(Date.now() - 1_000);
      await store.steps.recordStepFinish(SYSTEM, {
        runId: 'run-late-start',
        nodeId: 'train',
        step,
        status: 'cancelled',
        attempt: 1,
      });
      // The worker writes a quick step's start with its finish, so this attempt's start can land late.
      await store.steps.recordStepStart(SYSTEM, {
        runId: 'run-late-start',
        nodeId: 'train',
        step,
        attempt: 1,
        startedAt,
      });
      const row = await store.steps.getStep(SYSTEM, { runId: 'run-late-start', nodeId: 'train' });
      assert.deepEqual([row?.status, row?.attempts], ['cancelled', 1]);
      assert.ok(row?.finishedAt);
    });

    it('records a skipped node that never started', async () => {
      const row = await store.steps.recordStepFinish(SYSTEM, {
        runId: 'run-retry',
        nodeId: 'deploy',
        status: 'skipped',
        step: { name: 'deploy', version: '1' },
      });
      assert.equal(row.status, 'skipped');
      await assert.rejects(
        store.steps.recordStepFinish(SYSTEM, { runId: 'run-retry', nodeId: 'nowhere', status: 'succeeded' }),
        {
          name: 'NotFoundError',
        },
      );
    });

    it('does not duplicate artifacts or lineage edges when a finish is replayed', async () => {
      await startRun(store, 'run-edges');
      const csv = sha('edges.csv');
      await store.artifacts.recordArtifact(SYSTEM, { sha256: csv, kind: 'file', size: 10, mediaType: 'text/csv' });
      await runStep(
        store,
        'run-edges',
        'ingest',
        'ingest',
        { file: csv },
        { dataset: { sha256: sha('edges-ds'), kind: 'dataset' } },
      );
      await runStep(
        store,
        'run-edges',
        'ingest',
        'ingest',
        { file: csv },
        { dataset: { sha256: sha('edges-ds'), kind: 'dataset' } },
      );
      await store.steps.recordLineage(
        SYSTEM,
        { runId: 'run-edges', nodeId: 'ingest' },
        { inputs: [{ sha256: csv, port: 'file' }] },
      );
      const step = await store.steps.getStep(SYSTEM, { runId: 'run-edges', nodeId: 'ingest' });
      const edges = await store.db.select().from(lineageEdges).where(eq(lineageEdges.stepExecutionId, step!.id));
      assert.equal(edges.length, 2);
    });

    it('refuses lineage that names an artifact never recorded', async () => {
      await assert.rejects(
        store.steps.recordLineage(
          SYSTEM,
          { runId: 'run-edges', nodeId: 'ingest' },
          { outputs: [sha('never recorded')] },
        ),
        (e: Error) => e.name === 'ConflictError' && /not recorded/.test(e.message),
      );
    });

    it('finds a succeeded execution by cache key and records a hit that reuses its output and lineage', async () => {
      const step = { name: 'split', version: '1' };
      const dataset = sha('edges-ds');
      const key = cacheKey(step, { dataset: { kind: 'dataset', sha256: dataset }, testFraction: 0.2 });
      assert.equal(key, cacheKey(step, { testFraction: 0.2, dataset: { sha256: dataset, kind: 'dataset' } }));
      assert.equal(await store.steps.lookupCache(SYSTEM, key), undefined);
      await runStep(
        store,
        'run-edges',
        'split',
        'split',
        { dataset },
        { train: { sha256: sha('train'), kind: 'dataset' }, test: { sha256: sha('test'), kind: 'dataset' } },
        { cacheKey: key },
      );
      const hit = await store.steps.lookupCache(SYSTEM, key);
      assert.ok(hit);
      assert.deepEqual(
        hit.outputs.map((o) => o.port),
        ['test', 'train'],
      );
      assert.deepEqual(hit.output, {
        train: { kind: 'dataset', sha256: sha('train') },
        test: { kind: 'dataset', sha256: sha('test') },
      });

      await startRun(store, 'run-cached');
      const cached = await store.steps.recordCacheHit(SYSTEM, {
        runId: 'run-cached',
        nodeId: 'split',
        step,
        cacheKey: key,
        from: hit.executionId,
      });
      await store.steps.recordCacheHit(SYSTEM, {
        runId: 'run-cached',
        nodeId: 'split',
        step,
        cacheKey: key,
        from: hit.executionId,
      });
      assert.equal(cached.status, 'cached');
      assert.equal(cached.cachedFrom, hit.executionId);
      const steps = await store.steps.listSteps(SYSTEM, 'run-cached');
      assert.equal(steps.length, 1);
      const edges = await store.db.select().from(lineageEdges).where(eq(lineageEdges.stepExecutionId, cached.id));
      assert.equal(edges.length, 3);
      assert.equal((await store.steps.lookupCache(SYSTEM, key))?.executionId, hit.executionId);
    });

    it('keeps concurrent runs apart: no lost, duplicated or interleaved records', async () => {
      const other = await backend.openAnother();
      const runs = Array.from({ length: 12 }, (_, i) => `run-concurrent-${i}`);
      await Promise.all(
        runs.map(async (runId, i) => {
          const s = i % 2 ? other : store;
          await startRun(s, runId);
          let previous = sha('shared-source');
          await s.artifacts.recordArtifact(SYSTEM, { sha256: previous, kind: 'file', size: 1 });
          for (let n = 0; n < 6; n++) {
            const out = sha(`${runId}/${n}`);
            await runStep(
              s,
              runId,
              `node-${n}`,
              `step${n}`,
              { in: previous },
              { out: { sha256: out, kind: 'dataset' } },
              { attempts: 1 + (n % 3) },
            );
            previous = out;
          }
          await s.runs.recordRunFinish(SYSTEM, { runId, status: 'succeeded' });
        }),
      );
      const counts = await store.db
        .select({
          runId: stepExecutions.runId,
          n: sql<number>`count(*)::int`,
          attempts: sql<number>`sum(${stepExecutions.attempts})::int`,
        })
        .from(stepExecutions)
        .where(sql`${stepExecutions.runId} like 'run-concurrent-%'`)
        .groupBy(stepExecutions.runId);
      assert.equal(counts.length, 12);
      for (const c of counts)
        assert.deepEqual({ n: c.n, attempts: c.attempts }, { n: 6, attempts: 1 + 2 + 3 + 1 + 2 + 3 });
      for (const runId of runs) {
        const graph = await store.lineage.upstream(SYSTEM, { run: runId });
        const foreign = graph.nodes.filter((n) => n.type === 'step' && n.runId !== runId);
        assert.deepEqual(foreign, [], `${runId} lineage reaches another run`);
        assert.equal(graph.nodes.filter((n) => n.type === 'step').length, 6);
        const outputs = graph.nodes.filter((n) => n.type === 'artifact').map((n) => n.id);
        for (let n = 0; n < 6; n++) assert.ok(outputs.includes(`artifact:${sha(`${runId}/${n}`)}`));
      }
    });
  });
}
