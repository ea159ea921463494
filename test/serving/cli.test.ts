import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { openStore } from '../../store';
import { testContext } from '../support/step-context';
import { register, trainCreditModel } from './credit-model';

// `kiln serve` as a user runs it: a PGlite store under KILN_HOME with credit-risk at production;
// the printed curl line must work as printed, and SIGTERM must stop the server cleanly.

type Ctx = Awaited<ReturnType<typeof testContext>>;
let ctx: Ctx;
let home: string;

before(async () => {
  ctx = await testContext();
  home = await mkdtemp(join(tmpdir(), 'kiln-serve-home-'));
  const store = await openStore({ dir: join(home, 'db') });
  try {
    const credit = await trainCreditModel(ctx);
    await register(ctx, store, credit.model, 'credit-risk', 'production');
  } finally {
    await store.close();
  }
});
after(async () => {
  await ctx.dispose();
  await rm(home, { recursive: true, force: true });
});

it('serves credit-risk@production, prints a curl line that works, and stops on SIGTERM', async () => {
  const { DATABASE_URL: _url, KILN_TOKEN: _token, ...env } = process.env;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'cli/main.ts', 'serve', 'credit-risk@production', '--port', '0', '--sensitive', 'age'],
    { env: { ...env, KILN_HOME: home, KILN_ARTIFACTS: ctx.artifacts.root, KILN_USER: 'tester' } },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  try {
    for (let i = 0; i < 600 && !out.includes('Ctrl-C stops it.'); i++) {
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(out, /Serving credit-risk@production v1 at http:\/\/127\.0\.0\.1:\d+/, `${out}\n${err}`);
    const curl = /curl -s (\S+) -H 'content-type: application\/json' -d '(.*)'/.exec(out);
    assert.ok(curl, out);
    const response = await fetch(curl[1]!, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: curl[2]!,
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { model: string; version: number; label: string };
    assert.deepEqual([body.model, body.version], ['credit-risk', 1]);
    assert.ok(['good', 'bad'].includes(body.label));
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, err);
});
