import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';

// `kiln dev --steps` as a user runs it: the default embedded store (PGlite, no DATABASE_URL), a
// step module of the user's own outside this repository, and `kiln run` from another process.

const repo = resolve(import.meta.dirname, '../..');
const sdk = join(repo, 'sdk/index.ts');
// The package's bin, run from the user's folder as `kiln` would be.
const kilnBin = join(repo, 'cli/kiln.mjs');
const address = process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
const taskQueue = `user-steps-${randomUUID()}`;
const dir = await mkdtemp(join(tmpdir(), 'kiln-user-steps-'));
const home = join(dir, 'home');
const stepsFile = join(dir, 'my-steps.ts');
let dev: ChildProcess | undefined;
let devOut = '';

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

/**
 * The user's step module: `user.tag` adds a column `mark` holding `mark` to every row;
 * `user.hold` passes a dataset through once the file `until` exists (after writing `until`.started).
 */
const stepModule = (mark: string, version: string) => `import { existsSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { datasetRef, defineStep, implement, readRows, writeDataset, z } from '${sdk}';

export const tag = defineStep({
  name: 'user.tag',
  version: '${version}',
  input: z.object({ dataset: datasetRef }),
  output: z.object({ dataset: datasetRef, mark: z.string() }),
});

export const hold = defineStep({
  name: 'user.hold',
  version: '${version}',
  input: z.object({ dataset: datasetRef, until: z.string() }),
  output: z.object({ dataset: datasetRef }),
  options: { cache: false },
});

export default [
  implement(tag, async ({ dataset }, ctx) => {
    async function* rows() {
      for await (const row of readRows(ctx.artifacts, dataset)) yield { ...row, mark: '${mark}' };
    }
    const columns = [...dataset.columns, { name: 'mark', type: 'string' as const }];
    return { dataset: await writeDataset(ctx.artifacts, columns, rows()), mark: '${mark}' };
  }),
  implement(hold, async ({ dataset, until }, ctx) => {
    writeFileSync(until + '.started', '');
    while (!existsSync(until)) {
      ctx.heartbeat();
      await sleep(100);
    }
    return { dataset };
  }),
];
`;

const pipelineModule = (stepName: string) => `import { defineStep, datasetRef, pipeline, readCsv, z } from '${sdk}';
import { tag } from './my-steps';

const missing = defineStep({ name: '${stepName}', version: '1', input: z.object({ dataset: datasetRef }), output: z.object({}) });

export default pipeline({ name: 'user-steps' }, (p) => {
  const raw = p.step(readCsv, { path: '${join(dir, 'data.csv')}' });
  const tagged = p.step(${stepName === 'user.tag' ? 'tag' : 'missing'}, { dataset: raw.dataset });
  return ${stepName === 'user.tag' ? '{ mark: tagged.mark, rows: tagged.dataset }' : '{}'};
});
`;

const inFlightPipeline = `import { pipeline, readCsv } from '${sdk}';
import { hold, tag } from './my-steps';

export default pipeline({ name: 'in-flight' }, (p) => {
  const raw = p.step(readCsv, { path: '${join(dir, 'data.csv')}' });
  const held = p.step(hold, { dataset: raw.dataset, until: '${join(dir, 'release')}' });
  const tagged = p.step(tag, { dataset: held.dataset });
  return { mark: tagged.mark };
});
`;

function kiln(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [kilnBin, ...args], {
    env: env(),
    cwd: dir,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((done) => child.on('close', (code) => done({ code, stdout, stderr })));
}

/** Resolves once kiln dev has printed `text` (after `from`, an offset into its output). */
function devPrints(text: string | RegExp, from = 0, timeoutMs = 60_000): Promise<string> {
  return new Promise((done, fail) => {
    const found = () => {
      const rest = devOut.slice(from);
      return typeof text === 'string' ? rest.includes(text) : text.test(rest);
    };
    if (found()) return done(devOut.slice(from));
    const timer = setTimeout(
      () => fail(new Error(`kiln dev did not print ${text}; it printed:\n${devOut}`)),
      timeoutMs,
    );
    const look = () => {
      if (!found()) return;
      clearTimeout(timer);
      dev!.stdout!.off('data', look);
      done(devOut.slice(from));
    };
    dev!.stdout!.on('data', look);
  });
}

async function waitForFile(path: string, timeoutMs = 60_000): Promise<void> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await sleep(100))
    if (await stat(path).catch(() => undefined)) return;
  throw new Error(`${path} did not appear; kiln dev printed:\n${devOut}`);
}

/** The `mark` output of a run of the user pipeline. */
async function runMark(extra: string[] = []): Promise<string> {
  const { code, stdout, stderr } = await kiln(['run', join(dir, 'pipeline.ts'), ...extra]);
  assert.equal(code, 0, `kiln run failed:\n${stdout}\n${stderr}`);
  const mark = /"mark": "([^"]+)"/.exec(stdout)?.[1];
  assert.ok(mark, `no mark in:\n${stdout}`);
  return mark;
}

before(async () => {
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'my-project', type: 'module', private: true }));
  await writeFile(join(dir, 'data.csv'), 'x,y\n1,2\n3,4\n');
  await writeFile(stepsFile, stepModule('v1', 'auto'));
  await writeFile(join(dir, 'pipeline.ts'), pipelineModule('user.tag'));
  await writeFile(join(dir, 'missing.ts'), pipelineModule('user.missing'));
  await writeFile(join(dir, 'in-flight.ts'), inFlightPipeline);
  dev = spawn(process.execPath, [kilnBin, 'dev', '--steps', stepsFile], {
    env: env(),
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  dev.stdout!.on('data', (chunk: Buffer) => (devOut += chunk.toString()));
  dev.stderr!.on('data', (chunk: Buffer) => (devOut += chunk.toString()));
  dev.once('exit', (code) => (devOut += `\n[kiln dev exited with ${code}]`));
  await devPrints(/Worker polling|kiln dev exited/, 0, 120_000);
  assert.match(devOut, /Worker polling/);
});

after(async () => {
  if (dev && dev.exitCode === null) {
    dev.kill('SIGINT');
    await new Promise((done) => dev!.once('exit', done));
  }
  await rm(dir, { recursive: true, force: true });
});

describe('kiln dev --steps on the embedded store', { timeout: 300_000 }, () => {
  it('runs a pipeline mixing a built-in step (data.readCsv) and a user step', async () => {
    assert.match(devOut, /Steps from .*my-steps\.ts: user\.tag/);
    assert.equal(await runMark(), 'v1');
  });

  it('reloads an edited step module without a restart: the next run gets the new code', async () => {
    const from = devOut.length;
    await writeFile(stepsFile, stepModule('v2', 'auto'));
    await devPrints(/Reloaded .*my-steps\.ts/, from);
    // version 'auto' follows the code: the new code's result is not the cached one of the old.
    assert.equal(await runMark(), 'v2');
  });

  it('warns when a step changed but its declared version did not', async () => {
    let from = devOut.length;
    await writeFile(stepsFile, stepModule('v3', '7'));
    await devPrints(/Reloaded .*my-steps\.ts/, from);
    from = devOut.length;
    await writeFile(stepsFile, stepModule('v4', '7'));
    const printed = await devPrints(/Reloaded .*my-steps\.ts/, from);
    assert.match(
      printed,
      /Warning: step 'user\.tag' \(.*my-steps\.ts\) changed but its version is still '7': results cached under that version came from the old code/,
    );
  });

  it('lets a run in flight finish on the code it started with when the module is edited under it', async () => {
    let from = devOut.length;
    await writeFile(stepsFile, stepModule('before', '8'));
    await devPrints(/Reloaded .*my-steps\.ts/, from);
    const running = kiln(['run', join(dir, 'in-flight.ts')]);
    await waitForFile(join(dir, 'release.started'));
    from = devOut.length;
    await writeFile(stepsFile, stepModule('after', '8'));
    await devPrints(/Reloaded .*my-steps\.ts/, from);
    await writeFile(join(dir, 'release'), '');
    const { code, stdout, stderr } = await running;
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /"mark": "before"/, 'the run began before the edit: its later step runs the old code');
    assert.equal(await runMark(['--no-cache']), 'after', 'a run begun after the edit runs the new code');
  });

  it('refuses before starting a pipeline whose step no running worker of the task queue provides', async () => {
    const id = `missing-${randomUUID()}`;
    const { code, stderr } = await kiln(['run', join(dir, 'missing.ts'), '--id', id]);
    assert.equal(code, 1);
    assert.match(
      stderr,
      new RegExp(`step 'missing' runs 'user\\.missing', which no running worker of task queue '${taskQueue}' provides`),
    );
    const status = await kiln(['status', id]);
    assert.notEqual(status.code, 0, 'the refused run must not exist');
  });
});
