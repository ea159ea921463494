import { spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { readCsvImpl } from '../../activities/data/read-csv';
import { loadDataset } from '../../activities/common/dataset/dataset';
import { ensureStream } from '../../serving/stream';
import { openStore } from '../../store';
import { startPostgres } from '../../store/postgres-server';
import { register, trainCreditModel } from '../../test/serving/credit-model';
import { startNats } from '../../test/support/nats';
import { testContext } from '../../test/support/step-context';
import { treeCpuMs } from './cpu';

// The stream benchmark on loopback: one nats-server (JetStream, file storage), this process
// publishing German credit rows as events and timing each answer, and the consumer in a process of
// its own (bench/stream/consumer.ts): the floor (raw JetStream publish → consume, no scoring), a
// relay (the floor plus a de-duplicated JetStream publish of each answer), and kiln stream.
// Saturated: every event published at once (a window of --window unacknowledged publishes); events/s
// from the first publish to the last answer. Paced: --rate events/s, for the latency at a load
// every mode keeps up with. Latency: publish call → answer received by a subscriber on --to.
// The prediction log goes to PostgreSQL (a throwaway server) unless --store pglite.
//   npx tsx bench/stream/stream.ts [--events 20000] [--rate 1000] [--paced-events 3000] [--store postgres|pglite]
//     [--log-writers 2]: prediction log batches kiln stream writes at once
//     [--log-batch N]: rows per prediction log write (default: half of --max-in-flight)
//     [--modes floor,relay,kiln]: the consumers to run (the share of the floor needs floor and kiln)
//     [--cpu-prof DIR]: a V8 CPU profile of each consumer process into DIR (NODE_OPTIONS refuses --cpu-prof)

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '20000' },
    rate: { type: 'string', default: '1000' },
    'paced-events': { type: 'string', default: '3000' },
    window: { type: 'string', default: '512' },
    'max-in-flight': { type: 'string', default: '256' },
    'log-writers': { type: 'string', default: '2' },
    'log-batch': { type: 'string' },
    store: { type: 'string', default: 'postgres' },
    'cpu-prof': { type: 'string' },
    modes: { type: 'string', default: 'floor,relay,kiln' },
  },
});
const saturatedEvents = Number(values.events);
const rate = Number(values.rate);
const pacedEvents = Number(values['paced-events']);
const window = Number(values.window);
const maxInFlight = Number(values['max-in-flight']);

const ctx = await testContext();
const raw = await readCsvImpl.run({ path: 'examples/data/german-credit.csv', label: 'class' }, ctx);
const rows = (await loadDataset(ctx.artifacts, raw.dataset)).rows.map(({ class: _label, ...row }) =>
  JSON.stringify(row),
);

if (values.store !== 'postgres' && values.store !== 'pglite') throw new Error(`--store is postgres or pglite`);
const postgres = values.store === 'postgres' ? await startPostgres() : undefined;
if (postgres) {
  // The model the kiln consumers serve, trained once here: the consumer processes load no TensorFlow.
  const store = await openStore({ url: postgres.url });
  const credit = await trainCreditModel(ctx);
  await register(ctx, store, credit.model, 'credit-risk', 'production');
  await store.close();
}
const nats = await startNats();
const nc = await connect({ servers: nats.url });
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);

type Mode = 'floor' | 'relay' | 'kiln';
const modes = values.modes.split(',') as Mode[];
for (const mode of modes)
  if (!['floor', 'relay', 'kiln'].includes(mode)) throw new Error(`--modes takes floor, relay and kiln, not '${mode}'`);

async function startConsumer(
  mode: Mode,
  from: string,
  to: string,
): Promise<{ child: ChildProcess; out: () => string }> {
  await ensureStream(jsm, from);
  await ensureStream(jsm, to);
  if (mode !== 'kiln')
    await jsm.consumers.add(await jsm.streams.find(from), {
      durable_name: `bench-${mode}`,
      ack_policy: AckPolicy.Explicit,
      filter_subject: from,
      max_ack_pending: maxInFlight,
    });
  const child = spawn(
    process.execPath,
    [
      ...(values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : []),
      '--import',
      'tsx',
      'bench/stream/consumer.ts',
      '--mode',
      mode,
      '--nats',
      nats.url,
      '--from',
      from,
      '--to',
      to,
      '--max-in-flight',
      String(maxInFlight),
      '--log-writers',
      String(values['log-writers']),
      ...(values['log-batch'] ? ['--log-batch', values['log-batch']] : []),
      ...(postgres ? ['--database-url', postgres.url, '--artifacts', ctx.artifacts.root] : []),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let printed = '';
  child.stdout!.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  for (let i = 0; i < 1200 && !/^ready$/m.test(printed); i++) {
    if (child.exitCode !== null) throw new Error(`the ${mode} consumer exited with ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!/^ready$/m.test(printed)) throw new Error(`the ${mode} consumer did not start within 120 s`);
  return { child, out: () => printed };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/** Publishes `n` events (all at once, or at `perSecond`) and waits for every answer. */
async function measure(from: string, to: string, n: number, perSecond?: number) {
  const sent = new Float64Array(n);
  const received = new Float64Array(n);
  let answers = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const sub = nc.subscribe(to, {
    callback: (_error, m) => {
      const seq = Number(m.headers?.get('Kiln-Source-Sequence'));
      if (!(seq >= 1 && seq <= n) || received[seq - 1]) return;
      received[seq - 1] = performance.now();
      if (++answers === n) done();
    },
  });
  await nc.flush();
  const start = performance.now();
  const pending = new Set<Promise<unknown>>();
  for (let i = 0; i < n; i++) {
    if (perSecond) {
      const due = start + (i * 1000) / perSecond;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    }
    while (pending.size >= window) await Promise.race(pending);
    sent[i] = performance.now();
    const p = js.publish(from, rows[i % rows.length]!).finally(() => pending.delete(p));
    pending.add(p);
  }
  await Promise.all(pending);
  const timeout = setTimeout(() => done(), 120_000);
  await all;
  clearTimeout(timeout);
  sub.unsubscribe();
  if (answers < n) throw new Error(`${answers} of ${n} answers arrived within 120 s`);
  const end = Math.max(...received);
  const latencies = Array.from(received, (r, i) => r - sent[i]!).sort((a, b) => a - b);
  return {
    eventsPerSecond: n / ((end - start) / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

const results: Record<
  string,
  {
    saturated: Awaited<ReturnType<typeof measure>>;
    paced: Awaited<ReturnType<typeof measure>>;
    counts: string;
    /** CPU ms per event of every process of the run over the saturated run. */
    systemCpu: number;
  }
> = {};
try {
  for (const mode of modes) {
    const { child, out } = await startConsumer(mode, `bench.${mode}.in`, `bench.${mode}.out`);
    try {
      const cpuBefore = treeCpuMs();
      const saturated = await measure(`bench.${mode}.in`, `bench.${mode}.out`, saturatedEvents);
      const systemCpuMs = treeCpuMs() - cpuBefore;
      // The paced run reads a stream of its own from sequence 1: a second consumer process.
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      const paced = await startConsumer(mode, `bench.${mode}.paced.in`, `bench.${mode}.paced.out`);
      try {
        const result = await measure(`bench.${mode}.paced.in`, `bench.${mode}.paced.out`, pacedEvents, rate);
        results[mode] = {
          saturated,
          paced: result,
          systemCpu: systemCpuMs / saturatedEvents,
          counts: out()
            .split('\n')
            .filter((l) => l.startsWith('{'))
            .join(' '),
        };
      } finally {
        paced.child.kill('SIGTERM');
        await new Promise((r) => paced.child.once('exit', r));
      }
    } finally {
      if (child.exitCode === null) child.kill('SIGTERM');
    }
    const r = results[mode]!;
    console.log(
      `${mode.padEnd(6)} ${r.saturated.eventsPerSecond.toFixed(0).padStart(7)} events/s (p50 ${r.saturated.p50.toFixed(1)} ms, p99 ${r.saturated.p99.toFixed(1)} ms saturated); ` +
        `at ${rate}/s: p50 ${r.paced.p50.toFixed(2)} ms, p99 ${r.paced.p99.toFixed(2)} ms; ` +
        `all processes ${r.systemCpu.toFixed(3)} CPU ms/event  ${r.counts}`,
    );
  }
  const { kiln, floor } = results;
  // On idle cores a run is bound by the CPU all its processes spend per event (or one process's core).
  if (kiln && floor)
    console.log(
      `CPU per event of all processes: kiln ${(kiln.systemCpu / floor.systemCpu).toFixed(2)}× the floor's, so on idle cores ` +
        `kiln would reach about ${((floor.systemCpu / kiln.systemCpu) * 100).toFixed(0)}% of the floor's events/s`,
    );
  const share =
    kiln && floor ? `${((kiln.saturated.eventsPerSecond / floor.saturated.eventsPerSecond) * 100).toFixed(0)}%` : 'n/a';
  console.log(
    `kiln stream at ${share} of the floor's throughput (target ≥ 50%); store ${values.store}; log writers ${values['log-writers']}; ${saturatedEvents} events saturated, ${pacedEvents} at ${rate}/s; ${cpus().length} × ${cpus()[0]?.model.trim()}`,
  );
} finally {
  await nc.close();
  await nats.stop();
  await postgres?.stop();
  await ctx.dispose();
}
