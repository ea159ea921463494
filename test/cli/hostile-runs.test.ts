import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { compile, pipeline } from '../../dsl';
import { openStore, SYSTEM } from '../../store';
import { add, fail, noop } from '../fixtures/steps';

// What hostile runs found in the CLI, each replayed against `kiln` as a process: a kiln worker
// (with the test steps) beside the suite's Temporal server, and kiln commands in other processes.

const address = process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
const taskQueue = `hostile-${randomUUID()}`;
let home: string;
let worker: ChildProcess | undefined;
let client: Client;
let terminated: string | undefined;

const env = (): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = {
    ...process.env,
    KILN_HOME: home,
    TEMPORAL_ADDRESS: address,
    KILN_TASK_QUEUE: taskQueue,
  };
  delete e.DATABASE_URL;
  delete e.KILN_TOKEN;
  return e;
};

/** Runs `kiln ARGS` (or a shell line with KILN standing for it) to its end. */
function kiln(args: string[] | string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const command = `${process.execPath} --import tsx cli/main.ts`;
  const child =
    typeof args === 'string'
      ? spawn('bash', ['-c', args.replaceAll('KILN', command)], { env: env() })
      : spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { env: env() });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((done) => child.on('close', (code) => done({ code, stdout, stderr })));
}

/** Starts `kiln worker --steps` and resolves once it polls. */
async function startWorker(): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'cli/main.ts', 'worker', '--steps', 'test/fixtures/steps-module.ts'],
    { env: env(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  await new Promise<void>((ready, failed) => {
    const look = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Kiln worker polling')) ready();
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    child.once('exit', (code) => failed(new Error(`kiln worker exited with ${code}: ${out}`)));
  });
  return child;
}

const exited = (child: ChildProcess) =>
  new Promise<void>((done) =>
    child.exitCode !== null || child.signalCode !== null ? done() : child.once('exit', () => done()),
  );

const steps = ['--steps', 'test/fixtures/steps-module.ts'];
const plan = async (name: string, value: object) => {
  const path = join(home, name);
  await writeFile(path, JSON.stringify(value));
  return path;
};
const sums = pipeline({ name: 'sums' }, (p) => p.step(add, { a: 1, b: 2 }));
const failing = pipeline({ name: 'failing' }, (p) =>
  p.step(fail, { type: 'GateFailed', message: 'the score 0.41 is below the gate 0.7' }),
);

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'kiln-hostile-'));
  client = new Client({ connection: await Connection.connect({ address }) });
  worker = await startWorker();
});
after(async () => {
  worker?.kill('SIGKILL');
  await client.connection.close();
  await rm(home, { recursive: true, force: true });
});

describe('kiln run refuses what it cannot run, before starting it', () => {
  it('refuses --parallelism 0 and --parallelism abc, naming the option', async () => {
    const file = await plan('sums.json', compile(sums));
    for (const value of ['0', 'abc', '-2', '1.5']) {
      const r = await kiln(['run', file, `--parallelism=${value}`, ...steps]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`--parallelism must be a whole number of at least 1 .*not '${value.replace('.', '\\.')}'`),
      );
      assert.doesNotMatch(r.stdout, /Started/);
    }
  });

  it('refuses --approve with --detach', async () => {
    const r = await kiln(['run', await plan('sums.json', compile(sums)), '--approve', '--detach', ...steps]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--approve .* cannot go with --detach/);
    assert.doesNotMatch(r.stdout, /Started/);
  });

  it("names the user's path when the pipeline file is missing, not Kiln's own module", async () => {
    for (const missing of ['no-such-pipeline.ts', 'no-such-plan.json']) {
      const r = await kiln(['run', missing, ...steps]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`kiln: ${missing.replace('.', '\\.')} does not exist`));
      assert.doesNotMatch(r.stderr, /load-pipeline/);
    }
  });

  it('refuses a plan naming a step no worker defines, naming the step and the task queue', async () => {
    const bad = compile(sums);
    const node = bad.nodes[0] as { step: { name: string } };
    node.step.name = 'data.readEverything';
    const r = await kiln(['run', await plan('unknown.json', bad), '--detach', ...steps]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(
      r.stderr,
      new RegExp(`runs 'data\\.readEverything', which no running worker of task queue '${taskQueue}' provides`),
    );
    assert.doesNotMatch(r.stdout, /Started/);
  });

  it('prints why a run failed, even when the run failed before its status could say', async () => {
    const module = 'test/fixtures/cli-only-steps.ts';
    const p = compile(sums);
    const node = p.nodes[0] as unknown as { step: { name: string }; options?: Record<string, unknown> };
    node.step.name = 'test.onlyInCli';
    // On a queue no worker polls, kiln run can check the plan only against --steps: it starts,
    // and the workflow's worker refuses it.
    node.options = { ...node.options, taskQueue: `${taskQueue}-unpolled` };
    const r = await kiln(['run', await plan('elsewhere.json', p), '--steps', module]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /error: .*test\.onlyInCli/);
    const f = await kiln(['run', await plan('failing.json', compile(failing)), ...steps]);
    assert.equal(f.code, 1, f.stderr);
    assert.match(f.stdout, /GateFailed: the score 0\.41 is below the gate 0\.7/);
  });
});

describe('kiln status', () => {
  it('links the Web UI page of the execution, run id included, and survives a closed pipe', async () => {
    const started = await kiln(['run', await plan('sums.json', compile(sums)), '--detach', ...steps]);
    assert.equal(started.code, 0, started.stderr);
    const id = /Started sums as (\S+)/.exec(started.stdout)![1]!;
    const { runId } = await client.workflow.getHandle(id).describe();
    await client.workflow.getHandle(id).result();
    const shown = await kiln(['status', id]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.ok(shown.stdout.includes(`/workflows/${id}/${runId}/history`), shown.stdout);
    // The reader is gone before kiln writes a line.
    const piped = await kiln(`KILN status ${id} | true`);
    assert.doesNotMatch(piped.stderr, /EPIPE|Error|at /);
  });

  it('says terminated for a run terminated in Temporal, which the worker records', async () => {
    const gated = pipeline({ name: 'gated' }, (p) => {
      const ok = p.approval('release', { timeout: '10m' });
      return p.step(noop, { after: ok.by });
    });
    const started = await kiln(['run', await plan('gated.json', compile(gated)), '--detach', ...steps]);
    assert.equal(started.code, 0, started.stderr);
    const id = /Started gated as (\S+)/.exec(started.stdout)![1]!;
    for (let i = 0; i < 100; i++) {
      const pending = await client.workflow.getHandle(id).describe();
      if (pending.historyLength > 3) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await client.workflow.getHandle(id).terminate('a hostile operator');
    terminated = id;
    const shown = await kiln(['status', id]);
    assert.equal(shown.code, 1);
    assert.match(shown.stdout, /^gated {2}terminated/);
    assert.match(shown.stdout, /error: Terminated/);
  });
});

describe('kiln worker', () => {
  it('stops promptly on SIGINT while idle and removes its lock file', async () => {
    const lock = join(home, 'db.lock');
    assert.ok(existsSync(lock), 'the running worker holds the store');
    const started = Date.now();
    worker!.kill('SIGINT');
    await exited(worker!);
    assert.ok(Date.now() - started < 15_000, `stopped after ${Date.now() - started} ms`);
    assert.equal(worker!.exitCode, 0);
    assert.ok(!existsSync(lock), 'the lock file is gone');
    worker = undefined;
  });

  it('records on start the runs Temporal terminated, which the store held as running', async () => {
    assert.ok(terminated, 'the status test terminated a run');
    worker = await startWorker();
    const store = await openStore({ dir: join(home, 'db') });
    try {
      let run;
      for (let i = 0; i < 100 && run?.status !== 'terminated'; i++) {
        run = await store.runs.getRun(SYSTEM, terminated);
        if (run?.status !== 'terminated') await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(run?.status, 'terminated');
      assert.ok(run?.finishedAt);
    } finally {
      await store.close();
    }
  });
});
