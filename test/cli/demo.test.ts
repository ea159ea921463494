import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { temporal } from '../support/temporal';

// `npm run demo`'s job, as a script runs it: the whole credit-risk lifecycle on the embedded
// store, approved, deployed, then served, and the printed curl line's request answered.

let server: Awaited<ReturnType<typeof temporal>>;
let home: string;
before(async () => {
  server = await temporal();
  home = await mkdtemp(join(tmpdir(), 'kiln-demo-'));
});
after(async () => {
  await server?.stop();
  await rm(home, { recursive: true, force: true });
});

it('runs the example end to end, deploys the approved model and serves it with a curl line that works', async () => {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KILN_HOME: home,
    TEMPORAL_ADDRESS: server.address,
    KILN_TASK_QUEUE: `demo-${process.pid}`,
  };
  delete env.DATABASE_URL;
  delete env.KILN_TOKEN;
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'demo', '--exit', '--approve'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, out.slice(-3_000));
  assert.match(out, /Serving credit-risk@production at http:\/\/127\.0\.0\.1:\d+/);
  assert.match(out, /curl -s http:\/\/127\.0\.0\.1:\d+\/v1\/models\/credit-risk\/predict/);
  assert.match(out, /It answered 200: \{.*"model":"credit-risk","version":1/);
});
