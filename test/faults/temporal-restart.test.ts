import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { freePort, startDevServer, type DevServer } from '../../cli/temporal-server';
import { compile, pipeline } from '../../dsl';
import { runPipeline } from '../../workflows';
import { counted } from '../fixtures/steps';
import { eventually, workerProcesses } from './worker-processes';

// Issue 11 item 12: the Temporal server restarted under a running pipeline. This file starts a
// server of its own (the suite's is shared), on a file database so that the restart keeps state.

let dir: string;
let port: number;
let server: DevServer | undefined;
let workers: ReturnType<typeof workerProcesses>;
const taskQueue = `restart-${randomUUID()}`;
const start = () => startDevServer({ headless: true, port, dbFile: join(dir, 'temporal.db') });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-restart-'));
  port = await freePort();
  server = await start();
  workers = workerProcesses({ address: () => server!.address, taskQueue, artifactsDir: dir });
});
after(async () => {
  await workers?.killAll();
  await server?.stop();
});

const executions = async (file: string) => (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);

it('finishes a run across a restart of the Temporal server: the worker reconnects by itself', async () => {
  const countFile = join(dir, 'executions.txt');
  await workers.start(undefined, { KILN_TEST_COUNT_FILE: countFile });
  const restarted = pipeline({ name: 'server-restart' }, (p) => {
    const prep = p.step(counted, { key: 'prep' }, { id: 'prep' });
    const long = p.step(counted, { key: 'long', ms: 4000, after: prep.key }, { id: 'long' });
    p.step(counted, { key: 'report', after: long.key }, { id: 'report' });
  });
  const connect = async () =>
    new Client({ connection: await Connection.connect({ address: server!.address }) }).workflow;
  const workflows = await connect();
  const handle = await workflows.start(runPipeline, {
    taskQueue,
    workflowId: `restart-${randomUUID()}`,
    args: [{ plan: compile(restarted) }],
  });
  await eventually('the long step', async () => ((await executions(countFile)).includes('long') ? true : undefined));
  await server!.stop();
  await workflows.connection.close();
  server = await start();

  const reconnected = await connect();
  try {
    const result = await reconnected.getHandle<typeof runPipeline>(handle.workflowId).result();
    assert.deepEqual(
      result.nodes.map((n) => [n.id, n.status]),
      [
        ['prep', 'succeeded'],
        ['long', 'succeeded'],
        ['report', 'succeeded'],
      ],
    );
    const ran = await executions(countFile);
    // The step in flight may run again (its heartbeats were lost with the server); the others ran once.
    assert.equal(ran.filter((k) => k === 'prep').length, 1);
    assert.equal(ran.filter((k) => k === 'report').length, 1);
  } finally {
    await reconnected.connection.close();
  }
});
