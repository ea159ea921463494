import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { evaluateClassifierImpl } from '../../activities/evaluate/classifier';
import { readCsvImpl } from '../../activities/data/read-csv';
import { splitImpl } from '../../activities/data/split';
import { fitFeaturesImpl } from '../../activities/features/fit';
import { trainClassifierImpl } from '../../activities/train/classifier';
import { startDevServer } from '../../cli/temporal-server';
import { compile } from '../../dsl';
import { startPostgres } from '../../store/postgres-server';
import { CREDIT_NODES, CREDIT_SPLIT, CREDIT_TRAINING, creditPipeline } from '../../test/support/credit-pipeline';
import { testContext } from '../../test/support/step-context';
import { runPipeline } from '../../workflows';

// How many runs and steps a second one worker sustains on real work, and what the engine costs
// there. RUNS concurrent runs of a five-step pipeline (German credit: read, split, fit features,
// train a logistic regression, evaluate) go to one `kiln worker` process that records every run
// and step into PostgreSQL and logs to its file, as in production. The floor is the same steps
// called directly in this process, RUNS chains at once, nothing recorded and no engine. Rounds
// alternate the two; the table is their median. STORE=pglite leaves DATABASE_URL unset: the worker
// records into its embedded PGlite store, on its own threads, as a first install does.
// Usage: RUNS=20 ROUNDS=3 [STORE=pglite] npx tsx bench/workers/sizing.ts

const RUNS = Number(process.env.RUNS) || 20;
const ROUNDS = Number(process.env.ROUNDS) || 3;
const repo = join(import.meta.dirname, '../..');
const CSV = join(repo, 'examples/data/german-credit.csv');
const STEPS = CREDIT_NODES.length;

const credit = creditPipeline('sizing-credit', CSV);

const server = await startDevServer({ headless: true, dbFile: ':memory:' });
const postgres = process.env.STORE === 'pglite' ? undefined : await startPostgres();
const scratch = await mkdtemp(join(tmpdir(), 'kiln-bench-sizing-'));
process.env.KILN_DATA_ROOTS = join(repo, 'examples/data');
const taskQueue = `bench-sizing-${randomUUID()}`;
const client = new Client({ connection: await Connection.connect({ address: server.address }) });
const ctx = await testContext();

/** The worker as production runs it: `kiln worker`, in a process of its own, its store in PostgreSQL. */
function startWorker(): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), join(repo, 'cli/main.ts'), 'worker', '--task-queue', taskQueue],
    {
      cwd: scratch,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: server.address,
        ...(postgres ? { DATABASE_URL: postgres.url } : {}),
        KILN_HOME: join(scratch, 'home'),
        KILN_ARTIFACTS: join(scratch, 'artifacts'),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Kiln worker polling')) resolve(child);
    });
    child.once('exit', (code, signal) => reject(new Error(`the worker exited early with ${code ?? signal}`)));
  });
}

const plan = compile(credit);
async function kilnRuns(n: number): Promise<number[]> {
  const handles = await Promise.all(
    Array.from({ length: n }, () =>
      client.workflow.start(runPipeline, {
        taskQueue,
        workflowId: `${credit.name}-${randomUUID()}`,
        args: [{ plan, params: {}, options: { cache: false } }],
      }),
    ),
  );
  return (await Promise.all(handles.map((h) => h.result()))).map((r) => (r.output as { rocAuc: number }).rocAuc);
}

/** Milliseconds each step of the direct chains took, summed by step (meaningful for chains run one at a time). */
const stepMs = new Map<string, number>();
async function step<T>(name: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const out = await run();
  stepMs.set(name, (stepMs.get(name) ?? 0) + performance.now() - started);
  return out;
}

async function directChain(): Promise<number> {
  const raw = await step('data.readCsv', () => readCsvImpl.run({ path: CSV, label: 'class' }, ctx));
  const parts = await step('data.split', () => splitImpl.run({ dataset: raw.dataset, ...CREDIT_SPLIT }, ctx));
  const features = await step('features.fit', () => fitFeaturesImpl.run({ dataset: parts.train, label: 'class' }, ctx));
  const trained = await step('train.classifier', () =>
    trainClassifierImpl.run({ train: parts.train, transform: features.transform, ...CREDIT_TRAINING }, ctx),
  );
  const scored = await step('evaluate.classifier', () =>
    evaluateClassifierImpl.run({ model: trained.model, dataset: parts.test }, ctx),
  );
  return scored.metrics.rocAuc;
}
const directRuns = (n: number) => Promise.all(Array.from({ length: n }, directChain));

const timed = async (fn: () => Promise<number[]>) => {
  const started = performance.now();
  const aucs = await fn();
  // Both sides train the same model: a run that did less would show here, not as speed.
  if (new Set(aucs).size !== 1) throw new Error(`runs disagree on ROC AUC: ${[...new Set(aucs)].join(', ')}`);
  return { seconds: (performance.now() - started) / 1000, auc: aucs[0]! };
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * CPU seconds a process and its descendants have used (Linux /proc, 100 ticks a second): a
 * worker's threads, PostgreSQL's backends, and the children they reaped.
 */
function treeCpu(root: number): number {
  const procs = readdirSync('/proc').flatMap((entry) => {
    try {
      // Fields after the command's closing parenthesis (a command may hold one): state, ppid, and
      // from the 14th field on utime, stime, cutime, cstime.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number) as [number, number, number, number];
      return [{ pid: Number(entry), ppid: Number(fields[1]), ticks: utime + stime + cutime + cstime }];
    } catch {
      return []; // not a process, or one that ended while read
    }
  });
  const tree = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs)
      if (tree.has(p.ppid) && !tree.has(p.pid)) {
        tree.add(p.pid);
        grew = true;
      }
  }
  return procs.filter((p) => tree.has(p.pid)).reduce((sum, p) => sum + p.ticks, 0) / 100;
}
const ownCpu = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

const worker = await startWorker();
try {
  // A round of each first, at full concurrency: workflow bundles, thread pools, connection pools
  // and the JIT warm up outside the numbers (a first round was the slowest on both sides).
  const [warmKiln, warmDirect] = [await timed(() => kilnRuns(RUNS)), await timed(() => directRuns(RUNS))];
  if (warmKiln.auc !== warmDirect.auc) throw new Error(`Kiln ${warmKiln.auc} and the floor ${warmDirect.auc} differ`);
  const kiln: number[] = [];
  const direct: number[] = [];
  const postmaster =
    postgres && Number(readFileSync(join(postgres.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  /** CPU seconds so far of Kiln's parts: the worker, the Temporal server, PostgreSQL and this process (the client). */
  const kilnParts = () => ({
    worker: treeCpu(worker.pid!),
    temporal: treeCpu(server.pid),
    postgres: postmaster ? treeCpu(postmaster) : 0,
    client: ownCpu(),
  });
  // CPU seconds each part used over all rounds: this process in the floor's, Kiln's parts in Kiln's.
  const cpu = { floor: 0, worker: 0, temporal: 0, postgres: 0, client: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    const own = ownCpu();
    direct.push((await timed(() => directRuns(RUNS))).seconds);
    cpu.floor += ownCpu() - own;
    const before = kilnParts();
    kiln.push((await timed(() => kilnRuns(RUNS))).seconds);
    const after = kilnParts();
    for (const part of ['worker', 'temporal', 'postgres', 'client'] as const) cpu[part] += after[part] - before[part];
  }
  const [k, d] = [median(kiln), median(direct)];
  console.log(
    `One worker, ${RUNS} concurrent runs of ${STEPS} steps (German credit), ${ROUNDS} rounds (median), ` +
      `${availableParallelism()} cores, ${cpus()[0]?.model}, ${new Date().toISOString().slice(0, 10)}`,
  );
  console.log('| | wall s | runs/s | steps/s | / floor |');
  console.log('|---|---:|---:|---:|---:|');
  const row = (what: string, s: number) =>
    console.log(
      `| ${what} | ${s.toFixed(2)} | ${(RUNS / s).toFixed(2)} | ${((RUNS * STEPS) / s).toFixed(1)} | ${(s / d).toFixed(2)}x |`,
    );
  row('steps called directly (floor)', d);
  row(`Kiln: one worker, recording into ${postgres ? 'PostgreSQL' : 'its PGlite'}`, k);
  console.log(
    `every round: floor ${direct.map((s) => s.toFixed(2)).join(', ')}; Kiln ${kiln.map((s) => s.toFixed(2)).join(', ')}`,
  );
  const perRun = (seconds: number) => `${((seconds / (ROUNDS * RUNS)) * 1000).toFixed(0)} ms`;
  console.log(
    `CPU a run: floor ${perRun(cpu.floor)}; Kiln ${perRun(cpu.worker + cpu.temporal + cpu.postgres + cpu.client)}: ` +
      `worker ${perRun(cpu.worker)}, Temporal server ${perRun(cpu.temporal)}, ` +
      `${postgres ? `PostgreSQL ${perRun(cpu.postgres)}, ` : ''}client ${perRun(cpu.client)}`,
  );
  // Where a run's time goes: ten chains one after another, each step's mean.
  stepMs.clear();
  for (let i = 0; i < 10; i++) await directChain();
  console.log(
    `one chain at a time: ${[...stepMs].map(([name, ms]) => `${name} ${(ms / 10).toFixed(1)} ms`).join(', ')}`,
  );
} finally {
  const exited = new Promise((r) => worker.once('exit', r));
  worker.kill('SIGTERM');
  await exited;
  await ctx.dispose();
  await client.connection.close();
  await postgres?.stop();
  await server.stop();
  await rm(scratch, { recursive: true, force: true });
}
