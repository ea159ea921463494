import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore, SYSTEM } from '../../store';

// A token on the command line is visible to every local user in `ps` and lands in shell
// history: commands take it from a file, and say so when --token is used anyway.

let home: string;
const tokens: Record<string, string> = {};

/** Runs `kiln ARGS` as a process with a fresh KILN_HOME and no KILN_TOKEN. */
function kiln(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, KILN_HOME: home };
  delete env.KILN_TOKEN;
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((done) => child.on('close', (code) => done({ code, stdout, stderr })));
}

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'kiln-token-file-'));
  const store = await openStore({ dir: join(home, 'db') });
  try {
    for (const [name, role] of [
      ['ada', 'admin'],
      ['victor', 'viewer'],
    ] as const)
      tokens[name] = (await store.access.createToken(SYSTEM, { name, role })).token;
  } finally {
    await store.close();
  }
  await writeFile(join(home, 'ada.token'), `${tokens.ada}\n`, { mode: 0o600 });
  await writeFile(join(home, 'victor.token'), tokens.victor!, { mode: 0o600 });
});
after(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('kiln --token-file', () => {
  it("acts as the principal of the file's token", async () => {
    const admin = await kiln(['token', 'list', '--token-file', join(home, 'ada.token')]);
    assert.equal(admin.code, 0, admin.stderr);
    assert.match(admin.stdout, /victor/);
    assert.doesNotMatch(admin.stderr, /warning/);
    const viewer = await kiln(['token', 'list', `--token-file=${join(home, 'victor.token')}`]);
    assert.equal(viewer.code, 1);
    assert.match(viewer.stderr, /victor/);
    assert.match(viewer.stderr, /admin/);
  });

  it('warns on stderr when the token is given as --token', async () => {
    const given = await kiln(['token', 'list', '--token', tokens.ada!]);
    assert.equal(given.code, 0, given.stderr);
    assert.match(
      given.stderr,
      /warning: --token puts the token in the process list .* use --token-file PATH or KILN_TOKEN/,
    );
  });

  it('refuses a missing or malformed file without echoing its content, and --token with --token-file', async () => {
    const missing = await kiln(['models', '--token-file', join(home, 'nope.token')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /--token-file .*nope\.token cannot be read: ENOENT/);
    await writeFile(join(home, 'env.token'), 'PGPASSWORD=hunter2 other secret\n');
    const malformed = await kiln(['models', '--token-file', join(home, 'env.token')]);
    assert.equal(malformed.code, 1);
    assert.match(malformed.stderr, /must hold one token on one line/);
    assert.doesNotMatch(malformed.stderr, /hunter2/);
    const both = await kiln(['models', '--token', tokens.ada!, '--token-file', join(home, 'ada.token')]);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /give --token-file or --token, not both/);
  });

  it('lists --token-file in the help of every command that acts as a principal, and nowhere else', async () => {
    const help = await kiln(['approve', '--help']);
    assert.match(help.stdout, /--token-file PATH/);
    const status = await kiln(['status', 'some-run', '--token-file', join(home, 'ada.token')]);
    assert.notEqual(status.code, 0);
    assert.match(status.stderr, /--token-file/);
  });
});
