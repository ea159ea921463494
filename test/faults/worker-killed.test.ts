import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import pg from 'pg';
import { fitFeatures, readCsv, registerModel, trainClassifier } from '../../activities/steps';
import { compile, pipeline } from '../../dsl';
import { SYSTEM, type Store } from '../../store';
import { runPipeline } from '../../workflows';
import { approveGate, approverAndViewer, waitForGate } from '../fixtures/gates';
import { testBackends, type TestBackend } from '../support/backends';
import { temporal, type TestTemporal } from '../support/temporal';
import { eventually, workerProcesses } from './worker-processes';

// Issue 11 item 12: the worker SIGKILLed while a run waits for approval, and again in the middle
// of registering the model; the workers after them finish the run, and the store holds each
// version, decision, audit event and lineage edge once. On PostgreSQL: worker processes share it.

const germanCredit = join(import.meta.dirname, '../../examples/data/german-credit.csv');
const model = `killed-${randomUUID().slice(0, 8)}`;
const released = pipeline({ name: 'killed-worker' }, (p) => {
  const raw = p.step(readCsv, { path: germanCredit, label: 'class' });
  const features = p.step(fitFeatures, { dataset: raw.dataset, label: 'class' });
  const trained = p.step(trainClassifier, {
    train: raw.dataset,
    transform: features.transform,
    label: 'class',
    architecture: 'logistic',
    epochs: 5,
    learningRate: 0.05,
    batchSize: 1000,
    seed: 1,
  });
  const release = p.approval('release', { show: { loss: trained.trainMetrics.loss }, timeout: '10m' });
  // A lost worker's attempt is retried after its start-to-close timeout (registration sends no heartbeats).
  p.step(
    registerModel,
    { name: model, model: trained.model, metrics: { loss: trained.trainMetrics.loss } },
    { id: 'register', after: [release.by], startToCloseTimeout: '10s' },
  );
});

let t: TestTemporal;
let backend: TestBackend;
let store: Store;
let url: string;
let workers: ReturnType<typeof workerProcesses>;
const taskQueue = `killed-${randomUUID()}`;
before(async () => {
  t = await temporal();
  backend = testBackends().find((b) => b.name === 'postgres')!;
  url = await backend.url!();
  store = await backend.open();
  await approverAndViewer(store);
  workers = workerProcesses({
    address: () => t.address,
    taskQueue,
    artifactsDir: await mkdtemp(join(tmpdir(), 'kiln-killed-')),
  });
});
after(async () => {
  await workers?.killAll();
  await backend?.close();
  await t?.stop();
});

const count = async (db: pg.Client, sql: string, params: unknown[]) =>
  Number((await db.query<{ n: string }>(sql, params)).rows[0]!.n);

it('finishes a run whose worker was SIGKILLed during the approval wait and during registration, with nothing half-written', async () => {
  const waiting = await workers.start(url);
  const handle = await t.client.workflow.start(runPipeline, {
    taskQueue,
    workflowId: `killed-${randomUUID()}`,
    args: [{ plan: compile(released) }],
  });
  await waitForGate(handle);
  await workers.kill(waiting);

  const registering = await workers.start(url);
  // Holds back every new version: the registration stops inside its transaction, after the
  // model row is locked and with its version insert sent, which is where the worker dies.
  const lock = new pg.Client({ connectionString: url });
  await lock.connect();
  try {
    await lock.query('begin');
    await lock.query('lock table model_versions in share mode');
    await approveGate(handle, 'alice', { store });
    await eventually('the registration blocked on the lock', async () => {
      // The insert waits for its table lock while being parsed: pg_stat_activity shows the wait, not yet its text.
      const blocked = await count(
        lock,
        `select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
        [],
      );
      return blocked > 0 ? true : undefined;
    });
    await workers.kill(registering);
    await workers.start(url);
  } finally {
    await lock.query('commit');
  }

  try {
    const result = await handle.result();
    assert.deepEqual(
      result.nodes.map((n) => [n.id, n.status]),
      ['readCsv', 'fit', 'classifier', 'release', 'register'].map((id) => [id, 'succeeded']),
    );
    assert.equal(result.nodes.find((n) => n.id === 'register')?.attempts, 2);

    const runId = handle.workflowId;
    assert.equal(
      await count(
        lock,
        'select count(*) as n from model_versions v join models m on m.id = v.model_id where m.name = $1',
        [model],
      ),
      1,
    );
    assert.equal(
      await count(lock, `select count(*) as n from audit_events where action = 'model.register' and subject like $1`, [
        `model:${model}@%`,
      ]),
      1,
    );
    assert.equal(await count(lock, 'select count(*) as n from approvals where run_id = $1', [runId]), 1);
    // The registering step's lineage (its primary key keeps each edge once): the model it registered.
    const edges = await lock.query<{ direction: string; port: string }>(
      `select e.direction, e.port from lineage_edges e join step_executions s on s.id = e.step_execution_id
       where s.run_id = $1 and s.node_id = 'register'`,
      [runId],
    );
    assert.ok(
      edges.rows.some((e) => e.direction === 'input' && e.port === 'model'),
      JSON.stringify(edges.rows),
    );
    const steps = await store.steps.listSteps(SYSTEM, runId);
    assert.deepEqual(steps.map((s) => s.nodeId).sort(), ['classifier', 'fit', 'readCsv', 'register']);
    assert.ok(
      steps.every((s) => s.status === 'succeeded'),
      JSON.stringify(steps.map((s) => [s.nodeId, s.status])),
    );
    assert.equal((await store.audit.verifyAudit(SYSTEM)).ok, true, 'the audit chain verifies');
  } finally {
    await lock.end();
  }
});
