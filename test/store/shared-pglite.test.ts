import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { z } from 'zod';
import { startRun } from '../../cli/start-run';
import { compile, pipeline } from '../../dsl';
import { add, noop } from '../fixtures/steps';
import { temporal, type TestTemporal } from '../support/temporal';

// Issue 11 item 0, on real servers: `kiln worker` owns the default PGlite store and serves it to
// itself and to CLI processes, as under `kiln dev`. 100 runs started at once and 20 CLI readers
// beside them must see no error, and every row must be the run's own.

const RUNS = 100;
const READERS = 20;

const tiny = pipeline({ name: 'shared-pglite', params: z.object({ i: z.number() }) }, (p, params) => {
  const sum = p.step(add, { a: params.i, b: 1000 });
  p.step(noop, { after: sum.sum });
  return sum.sum;
});
const plan = compile(tiny);

/** Output of a process, and how it ended. */
function finished(child: ChildProcess) {
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d));
  child.stderr?.on('data', (d: Buffer) => (err += d));
  return new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, out, err })),
  );
}

/** Rejects after `ms` saying what did not happen, instead of hanging the suite. */
function within<T>(ms: number, what: () => string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not done after ${ms / 1000} s: ${what()}`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

describe('the default PGlite store shared by a worker under load', () => {
  let t: TestTemporal;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let worker: ChildProcess;
  let workerDone: ReturnType<typeof finished>;
  let workerErr = '';
  let client: Client;
  const taskQueue = `shared-pglite-${randomUUID()}`;
  const kiln = (...args: string[]) =>
    spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });

  before(async () => {
    t = await temporal();
    home = await mkdtemp(join(tmpdir(), 'kiln-shared-pglite-'));
    env = {
      ...process.env,
      KILN_HOME: home,
      KILN_TASK_QUEUE: taskQueue,
      KILN_USER: 'ada',
      TEMPORAL_ADDRESS: t.address,
    };
    delete env.DATABASE_URL;
    delete env.KILN_TOKEN;
    worker = kiln('worker', '--steps', 'test/fixtures/steps-module.ts');
    workerDone = finished(worker);
    worker.stderr!.on('data', (d: Buffer) => (workerErr += d));
    await within(
      120_000,
      () => `kiln worker start; its stderr: ${workerErr}`,
      new Promise<void>((resolve, reject) => {
        worker.stdout!.on('data', (d: Buffer) => d.toString().includes('polling') && resolve());
        worker.once('close', (code) => reject(new Error(`kiln worker exited with ${code}: ${workerErr}`)));
      }),
    );
    client = new Client({ connection: await Connection.connect({ address: t.address }) });
  });
  after(async () => {
    worker?.kill('SIGINT');
    const killer = setTimeout(() => worker.kill('SIGKILL'), 10_000);
    await workerDone;
    clearTimeout(killer);
    await client?.connection.close();
    await t?.stop();
    await rm(home, { recursive: true, force: true });
  });

  /** Rows straight from the store, through the socket the worker serves it on (its url is in the lock file). */
  async function sql<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    const { url } = JSON.parse(await readFile(join(home, 'db.lock'), 'utf8')) as { url: string };
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query<R>(text, values)).rows;
    } finally {
      await c.end();
    }
  }

  it(`runs ${RUNS} pipelines started at once beside ${READERS} CLI readers with no error, every row its run's`, async () => {
    // The first admin (a fresh local store makes the first caller admin) and one finished run, for the readers.
    const bootstrap = await finished(kiln('audit', '--limit', '1'));
    assert.equal(bootstrap.code, 0, bootstrap.err);
    const first = await startRun(
      client,
      taskQueue,
      plan,
      { i: -1 },
      { workflowId: `${taskQueue}-first`, tracing: false },
    );
    assert.equal(
      await within(
        60_000,
        () => `the first run; the worker's stderr ends: ${workerErr.slice(-3000)}`,
        first.result(),
      ).then((r) => r.output),
      999,
    );

    const started = Date.now();
    const runs = Promise.all(
      Array.from({ length: RUNS }, (_, i) =>
        startRun(client, taskQueue, plan, { i }, { workflowId: `${taskQueue}-${i}`, tracing: false, cache: false }),
      ),
    );
    const readerArgs = [
      ['lineage', `run:${first.workflowId}`],
      ['models'],
      ['audit', '--limit', '5'],
      ['audit', 'verify'],
    ];
    const readers = Promise.all(
      Array.from({ length: READERS }, (_, i) => finished(kiln(...readerArgs[i % readerArgs.length]!))),
    );
    const handles = await runs;
    let done = 0;
    const results = await within(
      180_000,
      () => `${RUNS} runs, ${done} finished; the worker's stderr ends: ${workerErr.slice(-3000)}`,
      Promise.all(handles.map((h) => h.result().finally(() => done++))),
    );
    const read = await within(120_000, () => `${READERS} CLI readers`, readers);
    const seconds = (Date.now() - started) / 1000;

    results.forEach((r, i) => assert.equal(r.output, i + 1000, `run ${i}`));
    read.forEach((r, i) => {
      assert.equal(r.code, 0, `kiln ${readerArgs[i % readerArgs.length]!.join(' ')}: ${r.err}`);
      assert.equal(r.err, '', `kiln ${readerArgs[i % readerArgs.length]!.join(' ')} wrote to stderr`);
    });
    for (const r of read.filter((_, i) => i % readerArgs.length === 0))
      assert.match(r.out, new RegExp(first.workflowId));

    // No activity retried, no workflow task failed: a store error would have shown as one.
    let failures = 0;
    for (const h of handles)
      for (const e of (await h.fetchHistory()).events ?? [])
        if (e.activityTaskFailedEventAttributes || e.workflowTaskFailedEventAttributes) failures++;

    const recorded = await sql<{ id: string; status: string; params: { i: number } }>(
      'select id, status, params from runs where pipeline_name = $1',
      ['shared-pglite'],
    );
    assert.equal(recorded.length, RUNS + 1);
    const byId = new Map(recorded.map((r) => [r.id, r]));
    const steps = await sql<{ run_id: string; node_id: string; status: string; attempts: number; output: unknown }>(
      'select run_id, node_id, status, attempts, output from step_executions where run_id = any($1) order by run_id, node_id',
      [handles.map((h) => h.workflowId)],
    );
    assert.equal(steps.length, 2 * RUNS);
    for (const [i, h] of handles.entries()) {
      assert.deepEqual(byId.get(h.workflowId), { id: h.workflowId, status: 'succeeded', params: { i } });
      assert.deepEqual(
        steps.filter((s) => s.run_id === h.workflowId),
        [
          { run_id: h.workflowId, node_id: 'add', status: 'succeeded', attempts: 1, output: { sum: i + 1000 } },
          { run_id: h.workflowId, node_id: 'noop', status: 'succeeded', attempts: 1, output: { ok: true } },
        ],
      );
    }
    assert.equal(failures, 0, 'failed activity or workflow tasks in the runs');
    // Its stderr carries Temporal's [INFO] log; anything worse would be a store error surfacing.
    assert.doesNotMatch(workerErr, /\[(WARN|ERROR)\]|error|prepared statement/i);
    console.log(
      `${RUNS} runs and ${READERS} CLI readers on the shared PGlite store: 0 errors in ${seconds.toFixed(1)} s`,
    );
  });
});
