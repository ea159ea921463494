import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { WorkflowHandle } from '@temporalio/client';
import { ArtifactStore } from '../../activities/artifacts/store';
import { recordAndSend } from '../../cli/decide';
import { startDevStack } from '../../cli/dev-stack';
import { loadPlan } from '../../cli/load-pipeline';
import { createMonitor, planMonitor, renderResult, runMonitorWindow } from '../../cli/monitors';
import { startRunAs } from '../../cli/start-run';
import { caller } from '../../cli/store';
import type { PipelinePlan } from '../../dsl';
import { loadConfig } from '../../runtime/config';
import { startLogging, whereLogsGo } from '../../runtime/logging';
import { startStreamScoring, streamSource } from '../../serving/stream';
import type { Principal, Store } from '../../store';
import { statusQuery, type runPipeline } from '../../workflows';

// The monitoring loop end to end on the sensor network readings, in one command:
//
//   npx tsx examples/sensor-drift/run.ts      (Temporal and the store as `kiln dev` finds them;
//                                              NATS_URL, default nats://127.0.0.1:4222, with JetStream)
//
// 1. sensor-site v1 learns indoor/outdoor from the first 1,250 readings of each mote (4 of 5).
// 2. `kiln stream` scoring (in this process) answers every reading published to NATS.
// 3. A monitor measures a window of held-out early readings: no drift, no action.
// 4. Readings 3,001-3,500 drift as the data really does (outdoors turns colder than indoors):
//    the monitor reports the drift and starts sensor-site again on those recent readings.
// 5. That run trains v2, passes the ROC AUC gate, is approved (by this script, as the caller),
//    and goes out as a 50% canary over the later readings still streaming; it is promoted.
// Every window is driven here, not by the monitor's schedule (created paused), so the example
// takes a minute instead of hours.

const DATA = 'examples/data/sensor-network-stream.csv';
const PIPELINE = 'examples/sensor-drift/pipeline.ts';
const MODEL = 'sensor-site';

interface Reading {
  reading: number;
  humidity: number;
  temperature: number;
  site: 'indoor' | 'outdoor';
}

type RunHandle = WorkflowHandle<typeof runPipeline>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The readings in time order: each mote's n-th reading at step n. */
async function readings(): Promise<Reading[]> {
  const lines = (await readFile(DATA, 'utf8')).trim().split('\n').slice(1);
  return lines
    .map((line) => {
      const [reading, mote, indoor, humidity, temperature] = line.split(',').map(Number) as number[];
      return { reading: reading!, mote: mote!, humidity: humidity!, temperature: temperature!, indoor: indoor === 1 };
    })
    .sort((a, b) => a.reading - b.reading || a.mote - b.mote)
    .map(({ reading, humidity, temperature, indoor }) => ({
      reading,
      humidity,
      temperature,
      site: indoor ? 'indoor' : 'outdoor',
    }));
}

const writeCsv = (file: string, rows: Reading[]) =>
  writeFile(
    file,
    ['humidity,temperature,site', ...rows.map((r) => `${r.humidity},${r.temperature},${r.site}`)].join('\n'),
  );

/** Waits for the run's `gate` to wait, then approves it as `actor` (recorded, then sent, as `kiln approve` does). */
async function approveWhenAsked(handle: RunHandle, store: Store, actor: Principal, gate = 'release') {
  for (const end = Date.now() + 10 * 60_000; Date.now() < end; await sleep(250)) {
    const status = await handle.query(statusQuery).catch(() => undefined);
    const failed = status?.nodes.find((n) => n.status === 'failed');
    if (failed) throw new Error(`${handle.workflowId}: step '${failed.id}' failed: ${failed.error?.message}`);
    if (status?.nodes.find((n) => n.id === gate)?.status === 'waiting')
      return recordAndSend(handle, store, actor, gate, true, 'approved by the sensor-drift example');
  }
  throw new Error(`${handle.workflowId}: the '${gate}' gate never asked for a decision`);
}

interface Released {
  output: { version: number; decision: string; reason: string; previous: number | null };
}

export async function main(print: (line: string) => void = console.log): Promise<number> {
  const config = loadConfig();
  const work = await mkdtemp(join(tmpdir(), 'kiln-sensor-drift-'));
  // The worker below runs in this process: its steps may read the example's files and the work folder.
  process.env.KILN_DATA_ROOTS = [process.cwd(), work, process.env.KILN_DATA_ROOTS ?? '']
    .filter(Boolean)
    .join(delimiter);
  const all = await readings();
  const early = all.filter((r) => r.reading <= 1250);
  const train = early.filter((_, i) => i % 5 !== 4);
  const calm = early.filter((_, i) => i % 5 === 4);
  const drifted = all.filter((r) => r.reading > 3000 && r.reading <= 3500);
  const later = all.filter((r) => r.reading > 3500);
  await writeCsv(join(work, 'initial.csv'), train);
  await writeCsv(join(work, 'recent.csv'), drifted);

  // The worker's log records go to KILN_HOME/logs, as under `kiln demo`, so the story stays readable here.
  print(whereLogsGo(startLogging({ home: config.home, verbose: false })));
  const stack = await startDevStack(config, print);
  const servers = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  const nats = await connect({ servers, maxReconnectAttempts: -1, reconnectTimeWait: 500 }).catch((error: unknown) => {
    throw new Error(`cannot reach NATS at ${servers}: start nats-server -js, or set NATS_URL`, { cause: error });
  });
  const { store, client } = stack;
  let scorer: Awaited<ReturnType<typeof startStreamScoring>> | undefined;
  try {
    const actor = await caller(store, config, print);
    const { plan } = await loadPlan(PIPELINE);
    const release = async (params: Record<string, unknown>) => {
      const handle = await startRunAs(store, actor, client, config.taskQueue, plan as PipelinePlan, params);
      await approveWhenAsked(handle, store, actor);
      return ((await handle.result()) as Released).output;
    };

    print(`\n1. Training ${MODEL} on ${train.length} early readings (${work}/initial.csv)`);
    const v1 = await release({ data: join(work, 'initial.csv'), strategy: { direct: {} } });
    print(`   v${v1.version} ${v1.decision} behind production (${v1.reason})`);

    const suffix = randomBytes(3).toString('hex');
    const from = `sensor.${suffix}.readings`;
    scorer = await startStreamScoring({
      connection: nats,
      source: streamSource(store, new ArtifactStore(config.artifactsDir), actor),
      model: MODEL,
      alias: 'production',
      from,
      to: `sensor.${suffix}.sites`,
      pollMs: 250,
      log: { flushMs: 50 },
    });
    print(`2. Scoring ${from} with ${MODEL}@production (stream ${scorer.stream})`);
    const js = jetstream(nats);
    let sent = 0;
    const publish = async (rows: Reading[]) => {
      for (const { humidity, temperature } of rows) await js.publish(from, JSON.stringify({ humidity, temperature }));
      sent += rows.length;
    };
    const scored = async () => {
      while (scorer!.counts.scored < sent) await sleep(50);
    };
    const window = async (rows: Reading[]) => {
      const start = new Date();
      await publish(rows);
      await scored();
      const end = new Date(Date.now() + 1);
      await sleep(5);
      return { start, end };
    };

    const name = `sensor-drift-${suffix}`;
    const policyFile = join(work, 'monitor.json');
    const policy = {
      every: '1h',
      minRows: 200,
      actions: { retrain: { pipeline: PIPELINE, params: { data: join(work, 'recent.csv') } } },
      cooldown: '1h',
    };
    await writeFile(policyFile, JSON.stringify(policy, null, 2));
    const target = `${MODEL}@production`;
    await createMonitor(
      store,
      client,
      config.taskQueue,
      actor,
      await planMonitor(store, actor, { target, name, policyFile, paused: true }),
    );
    print(`3. Monitor ${name} on ${target}; a window of ${calm.length} held-out early readings:`);
    const quiet = await runMonitorWindow(store, client, config.taskQueue, actor, name, await window(calm));
    print(indent(renderResult(quiet)));

    print(`4. A window of ${drifted.length} readings 3,001-3,500:`);
    const drift = await runMonitorWindow(store, client, config.taskQueue, actor, name, await window(drifted));
    print(indent(renderResult(drift)));
    const retrain = drift.actions.find((a) => a.kind === 'retrain' && a.outcome === 'done');
    if (!drift.report.drifted || !retrain?.workflowId) {
      print('No drift detected or no retraining started: the example stops here.');
      return 1;
    }

    print(`5. Retraining run ${retrain.workflowId}; later readings stream on while it trains and the canary runs`);
    let streaming = true;
    const background = (async () => {
      for (let i = 0; streaming; i = (i + 25) % later.length) {
        await publish(later.slice(i, i + 25));
        await sleep(250);
      }
    })();
    let v2: Released['output'];
    try {
      const handle = client.workflow.getHandle<typeof runPipeline>(retrain.workflowId);
      await approveWhenAsked(handle, store, actor);
      print(`   release approved as ${actor.name}`);
      v2 = ((await handle.result()) as Released).output;
    } finally {
      streaming = false;
      await background;
    }
    await scored();
    const served = await store.registry.getModelVersion(actor, MODEL, 'production');
    print(`   v${v2.version} ${v2.decision} (${v2.reason}); production serves v${served.version}`);

    const trail = await store.audit.listAudit(actor, { subject: `monitor:${name}` });
    print(`\nAudit trail of monitor:${name}:`);
    for (const e of trail) print(`  ${e.at.toISOString()}  ${e.actor}  ${e.action}`);
    print(`\nReadings sent ${sent}, scored ${scorer.counts.scored}, published ${scorer.counts.published}.`);
    print(`See the reports: kiln monitor report ${name}`);
    return v2.decision === 'promoted' && served.version === v2.version ? 0 : 1;
  } finally {
    await scorer?.stop();
    await nats.close();
    await stack.stop();
  }
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((line) => `   ${line}`)
    .join('\n');

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href)
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      for (let e: unknown = error; e; e = (e as Error).cause) console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
