import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArtifactStore } from '../../activities/artifacts/store';
import { cacheKey, ConflictError, type Store } from '../../store';
import { SYSTEM } from '../../store/access';
import { fakePlan, startRun } from '../support/store-fixtures';
import { testBackends } from '../support/backends';
import type { StepRequest } from '../../workflows/protocol';
import { storeRecorder } from '../../workers/store-recorder';
import { START_DELAY_MS } from '../../workers/step-writes';

const step = { name: 'test.digest', version: '1' };

for (const backend of testBackends()) {
  describe(`step records written in batches (${backend.name})`, () => {
    let store: Store;
    let artifacts: ArtifactStore;
    let dir: string;

    before(async () => {
      store = await backend.open();
      dir = await mkdtemp(join(tmpdir(), 'kiln-recorder-batch-'));
      artifacts = new ArtifactStore(dir);
    });
    after(async () => {
      await backend.close();
      await rm(dir, { recursive: true, force: true });
    });

    const request = (runId: string, node: string, s = step): StepRequest => ({
      input: { node },
      context: {
        workflowId: runId,
        runId: `t-${runId}`,
        pipeline: 'test-pipeline',
        planHash: fakePlan('test-pipeline').hash,
        node,
        step: s,
        cache: true,
      },
    });

    it('records every step of a concurrent fan-out, each committed by the time its success returns', async () => {
      const runId = `batch-fan-${backend.name}`;
      await startRun(store, runId);
      const recorder = storeRecorder(store, artifacts);
      const report = { kind: 'report' as const, ...(await artifacts.putJson({ report: 1 })) };
      const seen = await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          const req = request(runId, `n${i}`);
          const key = cacheKey(step, req.input);
          await recorder.started(req, key, 1);
          await recorder.succeeded(req, key, { output: { report, i }, attempt: 1 }, []);
          // What the activity would hand Temporal next is already on record.
          return (await store.steps.getStep(SYSTEM, { runId, nodeId: `n${i}` }))?.status;
        }),
      );
      assert.deepEqual(new Set(seen), new Set(['succeeded']));
      const rows = await store.steps.listSteps(SYSTEM, runId);
      assert.equal(rows.length, 40);
      assert.ok(rows.every((r) => r.status === 'succeeded' && r.attempts === 1));
      assert.deepEqual((rows.find((r) => r.nodeId === 'n7')?.output as { i: number }).i, 7);
      const made = (await store.lineage.upstream(SYSTEM, `run:${runId}`)).edges.filter((e) => e.type === 'output');
      assert.ok(made.length >= 1 && made.every((e) => e.to.includes(report.sha256) || e.from.includes(report.sha256)));
    });

    it('fails only the write that conflicts: its neighbours in the same batch are recorded', async () => {
      const runId = `batch-conflict-${backend.name}`;
      await startRun(store, runId);
      await store.steps.recordStepStart(SYSTEM, { runId, nodeId: 'taken', step: { name: 'other.step', version: '1' } });
      const recorder = storeRecorder(store, artifacts);
      const outcomes = await Promise.allSettled(
        ['a', 'taken', 'b'].map((node) => recorder.started(request(runId, node), 'k', 1)),
      );
      assert.deepEqual(
        outcomes.map((o) => o.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      const error = (outcomes[1] as PromiseRejectedResult).reason;
      assert.ok(error instanceof ConflictError, String(error));
      assert.match(error.message, /node 'taken' of run '.*' is recorded as other\.step@1, not test\.digest@1/);
      const rows = await store.steps.listSteps(SYSTEM, runId);
      assert.deepEqual(rows.map((r) => [r.nodeId, r.stepName, r.status]).sort(), [
        ['a', 'test.digest', 'running'],
        ['b', 'test.digest', 'running'],
        ['taken', 'other.step', 'running'],
      ]);
    });

    it('applies a batch in order: a retried start after a finish of the same node reopens it', async () => {
      const runId = `batch-order-${backend.name}`;
      await startRun(store, runId);
      await store.steps.recordSteps(SYSTEM, [
        { start: { runId, nodeId: 'x', step, attempt: 1 } },
        { start: { runId, nodeId: 'y', step, attempt: 1 } },
        { finish: { runId, nodeId: 'x', status: 'failed', attempt: 1, error: { type: 'Boom', message: 'boom' } } },
        { start: { runId, nodeId: 'x', step, attempt: 2 } },
        { start: { runId, nodeId: 'x', step, attempt: 2 } },
        { finish: { runId, nodeId: 'y', status: 'succeeded', attempt: 1, output: { ok: true } } },
      ]);
      const rows = await store.steps.listSteps(SYSTEM, runId);
      assert.deepEqual(rows.map((r) => [r.nodeId, r.status, r.attempts]).sort(), [
        ['x', 'running', 2],
        ['y', 'succeeded', 1],
      ]);
    });

    it('stores text the way it was given, whatever it holds, in the rows a batch inserts and updates, and in a row written alone', async () => {
      const runId = `batch-text-${backend.name}`;
      await startRun(store, runId);
      // What an array literal gives meaning to: quotes, backslashes, braces, commas, NULL, blanks.
      const hostile = ['say "hi"', 'C:\\tmp\\x', '{a,b}', 'NULL', '', ' padded ', 'line\nbreak', 'naïve ✓'];
      const output = { hostile, nested: { 'key "q"': '\\' } };
      await store.steps.recordSteps(SYSTEM, [
        { start: { runId, nodeId: 'updated', step } },
        ...hostile.map((message, i) => ({
          ran: {
            start: { runId, nodeId: `ran${i}`, step, cacheKey: message },
            finish: { runId, nodeId: `ran${i}`, status: 'failed' as const, error: { type: message, message } },
          },
        })),
        {
          ran: {
            start: { runId, nodeId: 'output', step },
            finish: { runId, nodeId: 'output', status: 'succeeded' as const, output },
          },
        },
      ]);
      await store.steps.recordSteps(SYSTEM, [
        { finish: { runId, nodeId: 'updated', status: 'failed', error: { type: 'NULL', message: hostile.join('|') } } },
      ]);
      // A step written alone goes as one row of values, not as arrays.
      await store.steps.recordStepRan(SYSTEM, {
        start: { runId, nodeId: 'alone', step, cacheKey: hostile.join('|') },
        finish: { runId, nodeId: 'alone', status: 'failed', error: { type: '{a,b}', message: hostile.join('|') } },
      });
      await store.steps.recordStepRan(SYSTEM, {
        start: { runId, nodeId: 'alone-output', step },
        finish: { runId, nodeId: 'alone-output', status: 'succeeded', output },
      });
      const rows = new Map((await store.steps.listSteps(SYSTEM, runId)).map((r) => [r.nodeId, r]));
      const alone = rows.get('alone')!;
      assert.deepEqual(
        [alone.errorType, alone.errorMessage, alone.cacheKey],
        ['{a,b}', hostile.join('|'), hostile.join('|')],
      );
      assert.deepEqual(rows.get('alone-output')!.output, output);
      hostile.forEach((message, i) => {
        const row = rows.get(`ran${i}`)!;
        assert.deepEqual([row.errorType, row.errorMessage, row.cacheKey], [message, message, message]);
      });
      assert.deepEqual(rows.get('output')!.output, output);
      assert.deepEqual(
        [rows.get('updated')!.errorType, rows.get('updated')!.errorMessage],
        ['NULL', hostile.join('|')],
      );
    });

    it('writes a batch of quick steps as one statement with its values written in, which hostile text cannot break out of', async () => {
      const runId = `batch-literals-${backend.name}`;
      await startRun(store, runId);
      const hostile = [
        "it's",
        "\\'); drop table runs; --",
        "E'\\x41'",
        '$1 $$ $tag$',
        '\\\\server\\share',
        "'';",
        'tab\there\r\nnewline',
        '🔥 naïve',
      ];
      const ran = (nodeId: string, message: string) => ({
        ran: {
          start: { runId, nodeId, step, cacheKey: message },
          finish: {
            runId,
            nodeId,
            status: 'failed' as const,
            error: { type: message, message },
            output: { message, [message]: [message] },
          },
        },
      });
      await store.steps.recordSteps(
        SYSTEM,
        hostile.map((message, i) => ran(`n${i}`, message)),
      );
      const rows = new Map((await store.steps.listSteps(SYSTEM, runId)).map((r) => [r.nodeId, r]));
      hostile.forEach((message, i) => {
        const row = rows.get(`n${i}`)!;
        assert.deepEqual(
          [row.errorType, row.errorMessage, row.cacheKey, row.output],
          [message, message, message, { message, [message]: [message] }],
        );
      });
      assert.ok(await store.runs.getRun(SYSTEM, runId), 'the runs table is still there');

      // Text PostgreSQL cannot hold (NUL) goes with parameters instead, and is refused there: the
      // whole batch is, as before.
      await assert.rejects(store.steps.recordSteps(SYSTEM, [ran('kept-out', 'fine'), ran('nul', 'a\u0000b')]));
      const after = await store.steps.listSteps(SYSTEM, runId);
      assert.deepEqual(
        after.filter((r) => r.nodeId === 'kept-out' || r.nodeId === 'nul'),
        [],
      );
    });

    it('gives a quick step whose node already has a row the start and finish rules, in a batch of quick steps', async () => {
      const runId = `batch-literals-rules-${backend.name}`;
      await startRun(store, runId);
      await store.steps.recordStepStart(SYSTEM, { runId, nodeId: 'started', step, attempt: 1 });
      const quick = (nodeId: string, attempt: number, status: 'succeeded' | 'failed') => ({
        ran: {
          start: { runId, nodeId, step, attempt },
          finish: { runId, nodeId, status, attempt, output: { attempt } },
        },
      });
      await store.steps.recordSteps(SYSTEM, [quick('started', 1, 'succeeded'), quick('fresh', 1, 'succeeded')]);
      // The same node twice in one batch: its second attempt reopens the row the first wrote.
      await store.steps.recordSteps(SYSTEM, [quick('twice', 1, 'failed'), quick('twice', 2, 'succeeded')]);
      const rows = new Map((await store.steps.listSteps(SYSTEM, runId)).map((r) => [r.nodeId, r]));
      assert.deepEqual(
        ['started', 'fresh', 'twice'].map((n) => [n, rows.get(n)?.status, rows.get(n)?.attempts, rows.get(n)?.output]),
        [
          ['started', 'succeeded', 1, { attempt: 1 }],
          ['fresh', 'succeeded', 1, { attempt: 1 }],
          ['twice', 'succeeded', 2, { attempt: 2 }],
        ],
      );
    });

    it('keeps each finish its own rules within one batch: a late success loses to a failure, a skipped node gets a row', async () => {
      const runId = `batch-finishes-${backend.name}`;
      await startRun(store, runId);
      await store.steps.recordSteps(SYSTEM, [
        { start: { runId, nodeId: 'ok', step } },
        { start: { runId, nodeId: 'late', step } },
      ]);
      await store.steps.recordStepFinish(SYSTEM, { runId, nodeId: 'late', status: 'failed', attempt: 1 });
      await store.steps.recordSteps(SYSTEM, [
        { finish: { runId, nodeId: 'ok', status: 'succeeded', attempt: 1, output: { n: 1 } } },
        { finish: { runId, nodeId: 'late', status: 'succeeded', attempt: 1, output: { n: 2 } } },
        { finish: { runId, nodeId: 'never', status: 'skipped', step } },
      ]);
      const rows = await store.steps.listSteps(SYSTEM, runId);
      assert.deepEqual(rows.map((r) => [r.nodeId, r.status, r.output]).sort(), [
        ['late', 'failed', null],
        ['never', 'skipped', null],
        ['ok', 'succeeded', { n: 1 }],
      ]);
    });

    it('records nothing of a batch with a write it cannot place, and names the node', async () => {
      const runId = `batch-none-${backend.name}`;
      await startRun(store, runId);
      await assert.rejects(
        store.steps.recordSteps(SYSTEM, [
          { start: { runId, nodeId: 'p', step } },
          { finish: { runId, nodeId: 'ghost', status: 'succeeded' } },
        ]),
        (e: Error) => e.message.includes(`${runId}/ghost`),
      );
      assert.deepEqual(await store.steps.listSteps(SYSTEM, runId), []);
    });

    /** The writes a store receives, by kind, while `body` runs. */
    async function writesDuring(body: () => Promise<void>) {
      const kinds: string[] = [];
      const { recordSteps, recordStepStart, recordStepFinish, recordStepRan } = store.steps;
      Object.assign(store.steps, {
        recordSteps: (actor: typeof SYSTEM, writes: Parameters<typeof recordSteps>[1]) => {
          kinds.push(writes.map((w) => Object.keys(w)[0]).join('+'));
          return recordSteps(actor, writes);
        },
        recordStepRan: (...args: Parameters<typeof recordStepRan>) => {
          kinds.push('ran');
          return recordStepRan(...args);
        },
        recordStepStart: (...args: Parameters<typeof recordStepStart>) => {
          kinds.push('start');
          return recordStepStart(...args);
        },
        recordStepFinish: (...args: Parameters<typeof recordStepFinish>) => {
          kinds.push('finish');
          return recordStepFinish(...args);
        },
      });
      try {
        await body();
      } finally {
        Object.assign(store.steps, { recordSteps, recordStepStart, recordStepFinish, recordStepRan });
      }
      return kinds;
    }

    it('writes a quick step as one row: its start goes with its finish, timed when it started', async () => {
      const runId = `batch-ran-${backend.name}`;
      await startRun(store, runId);
      const recorder = storeRecorder(store, artifacts);
      const req = request(runId, 'quick');
      const before = Date.now();
      const kinds = await writesDuring(async () => {
        void recorder.started(req, 'k', 1);
        await new Promise((r) => setTimeout(r, 5));
        await recorder.succeeded(req, 'k', { output: { ok: true }, attempt: 1 }, []);
      });
      assert.deepEqual(kinds, ['ran']);
      const row = await store.steps.getStep(SYSTEM, { runId, nodeId: 'quick' });
      assert.deepEqual([row?.status, row?.attempts, row?.cacheKey, row?.output], ['succeeded', 1, 'k', { ok: true }]);
      assert.ok(row!.startedAt.getTime() >= before - 1 && row!.startedAt < row!.finishedAt!, 'started when it started');
    });

    it('writes a quick retry onto the row its failed attempt left, by the start’s and the finish’s rules', async () => {
      const runId = `batch-ran-retry-${backend.name}`;
      await startRun(store, runId);
      const recorder = storeRecorder(store, artifacts);
      const req = request(runId, 'flaky');
      void recorder.started(req, 'k', 1);
      await recorder.settle(req);
      void recorder.started(req, 'k', 2);
      await recorder.succeeded(req, 'k', { output: { ok: 2 }, attempt: 2 }, []);
      const row = await store.steps.getStep(SYSTEM, { runId, nodeId: 'flaky' });
      assert.deepEqual([row?.status, row?.attempts, row?.output], ['succeeded', 2, { ok: 2 }]);
    });

    it('writes a long step’s start within the delay, before it finishes', async () => {
      const runId = `batch-lazy-${backend.name}`;
      await startRun(store, runId);
      const recorder = storeRecorder(store, artifacts);
      const req = request(runId, 'long');
      void recorder.started(req, 'k', 1);
      assert.equal(await store.steps.getStep(SYSTEM, { runId, nodeId: 'long' }), undefined);
      await new Promise((r) => setTimeout(r, START_DELAY_MS + 200));
      assert.equal((await store.steps.getStep(SYSTEM, { runId, nodeId: 'long' }))?.status, 'running');
      await recorder.succeeded(req, 'k', { output: { ok: true }, attempt: 1 }, []);
      assert.equal((await store.steps.getStep(SYSTEM, { runId, nodeId: 'long' }))?.status, 'succeeded');
    });

    it('commits a failed attempt’s start before the failure returns, so the workflow’s record comes after it', async () => {
      const runId = `batch-failed-${backend.name}`;
      await startRun(store, runId);
      const recorder = storeRecorder(store, artifacts);
      const req = request(runId, 'boom');
      void recorder.started(req, 'k', 1);
      await recorder.settle(req);
      assert.equal((await store.steps.getStep(SYSTEM, { runId, nodeId: 'boom' }))?.status, 'running');
    });

    it('fails a step’s finish when its start could not be written, and records no success', async () => {
      const runId = `batch-start-conflict-${backend.name}`;
      await startRun(store, runId);
      await store.steps.recordStepStart(SYSTEM, { runId, nodeId: 'taken', step: { name: 'other.step', version: '1' } });
      const recorder = storeRecorder(store, artifacts);
      const req = request(runId, 'taken');
      void recorder.started(req, 'k', 1);
      await assert.rejects(
        recorder.succeeded(req, 'k', { output: { ok: true }, attempt: 1 }, []),
        (e) => e instanceof ConflictError && /recorded as other\.step@1, not test\.digest@1/.test(e.message),
      );
      const row = await store.steps.getStep(SYSTEM, { runId, nodeId: 'taken' });
      assert.deepEqual([row?.stepName, row?.status], ['other.step', 'running']);
    });
  });
}
