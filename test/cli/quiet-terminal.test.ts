import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { compile, pipeline } from '../../dsl';
import { checkQuality, readCsv } from '../../activities/steps';
import { renderMetrics } from '../../cli/render';
import { terminalLine } from '../../runtime/logging';

// The terminal of `kiln worker` (the worker `kiln dev` and `kiln demo` run in their own process)
// shows warnings only; every record goes to KILN_HOME/logs/kiln.log as a JSON line; --verbose
// brings the records back to the terminal, never with a task token.

const address = process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
let home: string;

// A step that logs through its context (data.quality does), so its record carries the activity's task token.
const checked = pipeline({ name: 'quiet-check' }, (p) => {
  const raw = p.step(readCsv, { path: 'examples/data/german-credit.csv', label: 'class' });
  return p.step(checkQuality, { dataset: raw.dataset, checks: [{ rowCount: { min: 500 } }] });
});

const env = (taskQueue: string, kilnHome = home): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = {
    ...process.env,
    KILN_HOME: kilnHome,
    TEMPORAL_ADDRESS: address,
    KILN_TASK_QUEUE: taskQueue,
  };
  delete e.DATABASE_URL;
  delete e.KILN_TOKEN;
  return e;
};

// With a steps module, as a project's worker runs (on a fresh KILN_HOME, a worker without one fails
// today writing KILN_HOME/steps/versions.json before the folder exists; workers/step-versions.ts).
const steps = ['--steps', 'test/fixtures/steps-module.ts'];

/** `kiln worker` on its own task queue and KILN_HOME, with everything it prints collected. */
async function startWorker(extra: string[]) {
  const taskQueue = `quiet-${randomUUID()}`;
  const kilnHome = await mkdtemp(join(home, 'home-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'worker', ...extra], {
    env: env(taskQueue, kilnHome),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const seen = { out: '' };
  child.stdout.on('data', (chunk: Buffer) => (seen.out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (seen.out += chunk.toString()));
  await new Promise<void>((ready, failed) => {
    // A worker that neither polls nor exits is stopped, so no process outlives the test.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      failed(new Error(`kiln worker did not poll within 120 s: ${seen.out}`));
    }, 120_000);
    child.stdout.on('data', () => {
      if (!seen.out.includes('Kiln worker polling')) return;
      clearTimeout(timer);
      ready();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      failed(new Error(`kiln worker exited with ${code}: ${seen.out}`));
    });
  });
  return { child, taskQueue, kilnHome, seen };
}

/** Runs the pipeline to its end with `kiln run` on the worker's task queue. */
async function runOn(taskQueue: string, kilnHome: string): Promise<void> {
  const file = join(kilnHome, 'quiet-check.json');
  await writeFile(file, JSON.stringify(compile(checked)));
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'run', file], {
    env: env(taskQueue, kilnHome),
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((done) => child.on('close', done));
  assert.equal(code, 0, out);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGINT');
  await exited;
}

/** The log file's records, once one with `message` has been written. */
async function recordsWith(file: string, message: string): Promise<Array<Record<string, unknown>>> {
  for (let i = 0; i < 50; i++) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const records = text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    if (records.some((r) => r.msg === message)) return records;
    await sleep(100);
  }
  assert.fail(`no record '${message}' in ${file}`);
}

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'kiln-quiet-'));
});
after(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('the worker terminal', () => {
  it('shows no INFO records or task tokens by default, and the log file holds them as JSON lines', async () => {
    const worker = await startWorker(steps);
    try {
      await runOn(worker.taskQueue, worker.kilnHome);
      const file = join(worker.kilnHome, 'logs', 'kiln.log');
      const records = await recordsWith(file, 'data quality passed');
      const passed = records.find((r) => r.msg === 'data quality passed')!;
      assert.equal(passed.level, 30, 'an info record');
      assert.equal(typeof passed.taskToken, 'string', 'the file keeps the full record');
      assert.equal(passed.source, 'temporal');
      assert.match(worker.seen.out, /Logs: .*logs\/kiln\.log \(--verbose prints them here too\)/);
      assert.doesNotMatch(worker.seen.out, /INFO|data quality passed|taskToken/);
    } finally {
      await stop(worker.child);
    }
  });

  it('prints the records with --verbose, one line each and without the task token', async () => {
    const worker = await startWorker([...steps, '--verbose']);
    try {
      await runOn(worker.taskQueue, worker.kilnHome);
      await recordsWith(join(worker.kilnHome, 'logs', 'kiln.log'), 'data quality passed');
      for (let i = 0; i < 50 && !worker.seen.out.includes('data quality passed'); i++) await sleep(100);
      const line = worker.seen.out.split('\n').find((l) => l.includes('data quality passed'));
      assert.ok(line, worker.seen.out);
      assert.match(line, /^\[INFO\] data quality passed {2}\{.*"checks":1/);
      assert.doesNotMatch(worker.seen.out, /taskToken/);
    } finally {
      await stop(worker.child);
    }
  });
});

describe('a worker that cannot start', () => {
  it('exits with the reason instead of being held open by the log file or the runtime', async () => {
    const kilnHome = await mkdtemp(join(home, 'home-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'worker'], {
      env: { ...env('unreachable', kilnHome), TEMPORAL_ADDRESS: '127.0.0.1:1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    clearTimeout(timer);
    assert.equal(signal, null, `still running after 60 s: ${out}`);
    assert.equal(code, 1, out);
    assert.match(out, /^kiln: /m);
  });
});

describe('terminal lines', () => {
  it('drop the task token and keep the other fields', () => {
    const line = terminalLine({ level: 40, msg: 'slow poll', time: 1, taskToken: 'secret', node: 'train' });
    assert.equal(line, '[WARN] slow poll  {"node":"train"}\n');
  });
});

describe('the metrics table', () => {
  it('starts every value in one column when a metric name is long', () => {
    const table = renderMetrics({ auc: 0.8123, calibrationError: 0.04567, accuracy: 0.75 });
    const starts = table.split('\n').map((line) => line.search(/\d/));
    assert.equal(new Set(starts).size, 1, table);
    assert.match(table, /^ {2}calibrationError {2}0\.0457$/m);
  });
});
