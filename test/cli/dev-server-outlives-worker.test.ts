import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isServerUp } from '../../cli/temporal-server';

// Under `kiln dev` the Temporal server is the worker's child. A SIGKILLed worker must not take the
// server down: with its output on a pipe, its next log line met a broken pipe and it died.

const dir = await mkdtemp(join(tmpdir(), 'kiln-dev-crash-'));
let serverPid: number | undefined;
after(async () => {
  if (serverPid) process.kill(serverPid, 'SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('the dev server under a crashed worker', { timeout: 180_000 }, () => {
  it('keeps answering after its parent is SIGKILLed, its output in a log file, not a pipe', async () => {
    const parent = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/fixtures/dev-server-process.ts', join(dir, 'temporal.db')],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const line = await new Promise<string>((done, fail) => {
      let out = '';
      parent.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) done(out.split('\n')[0]!);
      });
      parent.once('exit', (code) => fail(new Error(`the parent exited with ${code}`)));
    });
    const { pid, address } = JSON.parse(line) as { pid: number; address: string };
    serverPid = pid;
    for (const fd of [1, 2]) assert.equal(readlinkSync(`/proc/${pid}/fd/${fd}`), join(dir, 'temporal.log'));

    parent.kill('SIGKILL');
    await new Promise((done) => parent.once('exit', done));
    // The server writes warnings as it goes; a broken pipe would end it at the next one.
    await new Promise((r) => setTimeout(r, 3000));
    process.kill(pid, 0);
    assert.ok(await isServerUp(address), 'the server still answers');
    assert.equal((await readFile(join(dir, 'temporal.log'), 'utf8')).includes('EPIPE'), false);
  });
});
