import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ensureStream, STREAM_HEADERS } from '../../serving/stream';
import { openStore, SYSTEM, type Store } from '../../store';
import { features, register, trainCreditModel } from './credit-model';
import { startNats, type TestNats } from '../support/nats';
import { postgres, type TestPostgres } from '../support/postgres';
import { testContext } from '../support/step-context';

// `kiln stream` as a process, SIGKILLed mid-stream and started again: the events it had taken and
// not acknowledged come back to the new process, and every event is logged and published once.

let database: TestPostgres;
let store: Store;
let nats: TestNats;
let nc: NatsConnection;
let home: string;
let ctx: Awaited<ReturnType<typeof testContext>>;
let events: string[];
let token: string;
const children: ChildProcess[] = [];

before(async () => {
  [database, nats] = await Promise.all([postgres(), startNats()]);
  store = await openStore({ url: database.url });
  ctx = await testContext();
  const credit = await trainCreditModel(ctx);
  await register(ctx, store, credit.model, 'credit-risk', 'production');
  // Ten passes over the holdout: enough that the kill lands mid-stream.
  events = Array.from({ length: 10 }, () => credit.holdout.map((row) => JSON.stringify(features(row)))).flat();
  ({ token } = await store.access.createToken(SYSTEM, { name: 'streamer', role: 'admin' }));
  home = await mkdtemp(join(tmpdir(), 'kiln-stream-kill-'));
  nc = await connect({ servers: nats.url });
});
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await nc?.close();
  await store?.close();
  await Promise.all([nats?.stop(), database?.stop(), ctx?.dispose()]);
  await rm(home, { recursive: true, force: true });
});

/** Starts `kiln stream` and resolves once it scores. */
function kilnStream(): Promise<ChildProcess> {
  const args = ['stream', 'credit-risk@production', '--from', 'kill.in', '--to', 'kill.out', '--nats', nats.url];
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'cli/main.ts', ...args, '--ack-wait-ms', '1000', '--max-in-flight', '16'],
    {
      env: {
        ...process.env,
        DATABASE_URL: database.url,
        KILN_HOME: home,
        KILN_ARTIFACTS: ctx.artifacts.root,
        KILN_TOKEN: token,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Scoring kill.in')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`kiln stream exited with ${code}: ${out}`)));
  });
}

const logged = async () =>
  (await store.serving.listPredictions(SYSTEM, { model: 'credit-risk', limit: 100_000 })).map((p) => p.requestId);

async function published(): Promise<string[]> {
  const jsm = await jetstreamManager(nc);
  const stream = await jsm.streams.find('kill.out');
  const count = (await jsm.streams.info(stream)).state.messages;
  if (count === 0) return [];
  const consumer = await jetstream(nc).consumers.get(stream);
  const ids: string[] = [];
  for await (const m of await consumer.fetch({ max_messages: count, expires: 2000 })) {
    ids.push(m.headers!.get(STREAM_HEADERS.requestId));
    if (ids.length === count) break;
  }
  return ids;
}

async function until(what: string, check: () => Promise<boolean>, ms = 60_000) {
  for (const end = Date.now() + ms; !(await check()); await new Promise((r) => setTimeout(r, 100)))
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

it('logs and publishes every event once when the kiln stream process is SIGKILLed mid-stream and started again', async () => {
  let child = await kilnStream();
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, 'kill.in');
  const js = jetstream(nc);
  await Promise.all(events.map((event) => js.publish('kill.in', event)));
  await until('some events scored', async () => (await logged()).length >= 100);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const before = (await logged()).length;
  assert.ok(before < events.length, `events are left for the next process (${before} of ${events.length} logged)`);

  child = await kilnStream();
  await until('every event logged', async () => (await logged()).length >= events.length);
  await until('every answer published', async () => (await published()).length >= events.length);
  // A redelivery after the kill must not add a row or an answer.
  await new Promise((r) => setTimeout(r, 1500));
  const ids = await logged();
  assert.equal(ids.length, events.length);
  assert.equal(new Set(ids).size, events.length);
  const answers = await published();
  assert.equal(answers.length, events.length);
  assert.deepEqual([...new Set(answers)].sort(), [...new Set(ids)].sort());
});
