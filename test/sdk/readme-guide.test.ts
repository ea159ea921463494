import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';

// The README's "Write your own step", followed word for word: its file blocks are the files in
// examples/steps (compared byte for byte), and its shell blocks are run as written, in order,
// with `kiln` standing for the package's bin (what `npx kiln` runs in a user's project).

const repo = resolve(import.meta.dirname, '../..');
const dir = await mkdtemp(join(tmpdir(), 'kiln-guide-'));
const taskQueue = `guide-${randomUUID()}`;
const children: ChildProcess[] = [];

after(async () => {
  for (const child of children)
    if (child.exitCode === null) {
      child.kill('SIGINT');
      await new Promise((done) => child.once('exit', done));
    }
  await rm(dir, { recursive: true, force: true });
});

/** The guide's code blocks, in order: a language, and the file a block is (when its fence names one). */
async function guideBlocks(): Promise<Array<{ lang: string; file?: string; body: string }>> {
  const readme = await readFile(join(repo, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Write your own step\n');
  assert.ok(start >= 0, 'the README has no "Write your own step" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^```(\w+)(?: (\S+))?\n([\s\S]*?)^```$/gm)].map(([, lang, file, body]) => ({
    lang: lang!,
    ...(file ? { file } : {}),
    body: body!,
  }));
}

const env = (): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = {
    ...process.env,
    KILN_HOME: join(dir, 'home'),
    KILN_TASK_QUEUE: taskQueue,
    PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
  };
  delete e.DATABASE_URL;
  delete e.KILN_TOKEN;
  // Set by the test runner for its children; a nested `node --test` would skip its files.
  delete e.NODE_TEST_CONTEXT;
  return e;
};

/** Runs one line of a shell block; `kiln dev` stays running (resolved once its worker polls). */
function runLine(line: string): Promise<string> {
  const child = spawn('bash', ['-c', line], { cwd: repo, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const longRunning = /^kiln dev\b/.test(line);
  return new Promise((done, fail) => {
    if (longRunning)
      child.stdout!.on('data', () => {
        if (out.includes('Worker polling')) done(out);
      });
    child.once('exit', (code) =>
      code === 0 && !longRunning ? done(out) : fail(new Error(`\`${line}\` exited with ${code}:\n${out}`)),
    );
  });
}

describe('the README guide "Write your own step"', { timeout: 300_000 }, () => {
  it('shows the files of examples/steps exactly as they are', async () => {
    const files = (await guideBlocks()).filter((b) => b.file);
    assert.deepEqual(
      files.map((b) => b.file),
      ['examples/steps/wage-features.ts', 'examples/steps/pipeline.ts', 'examples/steps/wage-features.test.ts'],
    );
    for (const block of files) assert.equal(block.body, await readFile(join(repo, block.file!), 'utf8'), block.file);
  });

  it('runs as written: the unit test passes, kiln dev loads the step, kiln run finishes the pipeline', async () => {
    await mkdir(join(dir, 'bin'));
    await writeFile(join(dir, 'bin', 'kiln'), `#!/bin/sh\nexec node ${join(repo, 'cli/kiln.mjs')} "$@"\n`);
    await chmod(join(dir, 'bin', 'kiln'), 0o755);
    const lines = (await guideBlocks()).filter((b) => b.lang === 'sh').flatMap((b) => b.body.trim().split('\n'));
    assert.deepEqual(lines, [
      'node --import tsx --test examples/steps/wage-features.test.ts',
      'kiln dev --steps examples/steps/wage-features.ts',
      'kiln run examples/steps/pipeline.ts',
    ]);
    const outputs: string[] = [];
    for (const line of lines) outputs.push(await runLine(line));
    assert.match(outputs[0]!, /# pass 3/);
    assert.match(outputs[1]!, /Steps from .*wage-features\.ts: features\.addRatio/);
    assert.match(outputs[2]!, /"missing": 0/);
    assert.match(outputs[2]!, /succeeded/);
  });
});
