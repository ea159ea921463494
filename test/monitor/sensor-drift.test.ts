import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { openStore, SYSTEM, type Store } from '../../store';
import { startNats, type TestNats } from '../support/nats';
import { postgres, type TestPostgres } from '../support/postgres';
import { temporal, type TestTemporal } from '../support/temporal';

// The sensor-drift example as a user runs it (`npx tsx examples/sensor-drift/run.ts`), against a
// real dev server, a PostgreSQL store and nats-server: the monitor leaves a calm window alone,
// detects the drift the readings really have, starts one retraining run, and the new version
// passes its gate and canary and is promoted; each step is on record in the store.

let server: TestTemporal;
let database: TestPostgres;
let nats: TestNats;
let home: string;
let store: Store;

before(async () => {
  [server, database, nats] = await Promise.all([temporal(), postgres(), startNats()]);
  home = await mkdtemp(join(tmpdir(), 'kiln-sensor-drift-home-'));
  store = await openStore({ url: database.url });
});
after(async () => {
  await store?.close();
  await Promise.all([server?.stop(), database?.stop(), nats?.stop()]);
  await rm(home, { recursive: true, force: true });
});

function runExample(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/sensor-drift/run.ts'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', fail);
    child.once('exit', (code) => done({ code, out }));
  });
}

it('detects the drift in the sensor readings, retrains on the recent ones, and promotes the new version through its gate and canary', async () => {
  const { token } = await store.access.createToken(SYSTEM, { name: 'ops', role: 'admin' });
  const { code, out } = await runExample({
    TEMPORAL_ADDRESS: server.address,
    DATABASE_URL: database.url,
    NATS_URL: nats.url,
    KILN_HOME: home,
    KILN_TASK_QUEUE: `sensor-drift-${randomUUID()}`,
    KILN_TOKEN: token,
  });
  assert.equal(code, 0, out);
  assert.match(out, /v1 promoted behind production/);
  assert.match(
    out,
    /3\. Monitor sensor-drift-[0-9a-f]+[^\n]*\n[^\n]*\n\s+dataset not drifted[\s\S]*?no action taken\n4\./,
  );
  assert.match(out, /dataset DRIFTED[\s\S]*?retrain: done, started sensor-site/);

  const name = /Monitor (sensor-drift-[0-9a-f]+)/.exec(out)![1]!;
  const reports = await store.monitoring.listReports(SYSTEM, name, { since: new Date(0) });
  assert.deepEqual(
    reports.map((r) => [r.report.status, r.report.drifted]),
    [
      ['measured', false],
      ['measured', true],
    ],
  );
  const drift = reports[1]!.report;
  for (const feature of ['humidity', 'temperature'])
    assert.equal(drift.features[feature]?.drifted, true, `${feature}: ${JSON.stringify(drift.features[feature])}`);

  const trail = await store.audit.listAudit(SYSTEM, { subject: `monitor:${name}`, action: 'monitor.retrain' });
  assert.equal(trail.length, 1, 'one retraining for the episode, audited');
  const workflowId = (trail[0]!.after as { workflowId: string }).workflowId;
  const run = await store.runs.getRun(SYSTEM, workflowId);
  assert.equal(run?.status, 'succeeded');
  assert.equal(run?.pipelineName, 'sensor-site');

  const production = await store.registry.getModelVersion(SYSTEM, 'sensor-site', 'production');
  assert.equal(production.version, 2, 'the retrained version serves production');
  assert.ok(production.metrics.rocAuc! >= 0.9, `gate held: ROC AUC ${production.metrics.rocAuc}`);
  assert.match(out, /v2 promoted \(.*\); production serves v2/);
  assert.match(out, /monitor\.retrain/);
});
