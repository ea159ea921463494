import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { openStore } from '../../store';
import { audit } from '../../cli/commands/audit';
import { SYSTEM } from '../../store/access';

// A local PGlite store makes its first user admin, with the token in KILN_HOME/token. That file
// belongs to KILN_HOME, not to the store: it survives `rm -rf .kiln/db`.

describe('kiln CLI first admin on a local store', () => {
  let home: string;
  const saved = { ...process.env };
  const out: string[] = [];
  const print = (line: string) => {
    out.push(line);
  };
  const tokenFile = () => join(home, 'token');

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'kiln-bootstrap-'));
    Object.assign(process.env, { KILN_HOME: home, KILN_USER: 'ada' });
    delete process.env.DATABASE_URL;
    delete process.env.KILN_TOKEN;
    out.length = 0;
  });
  afterEach(async () => {
    process.env = { ...saved };
    await rm(home, { recursive: true, force: true });
  });

  /** Who the store says the token in KILN_HOME/token belongs to. */
  async function holder() {
    const store = await openStore({ dir: join(home, 'db') });
    try {
      return await store.access.authenticate((await readFile(tokenFile(), 'utf8')).trim());
    } finally {
      await store.close();
    }
  }

  it('makes the local user admin on first use and keeps the token readable only by them', async () => {
    assert.equal(await audit([], print), 0);
    assert.match(out.join('\n'), /Created admin 'ada'/);
    assert.equal((await stat(tokenFile())).mode & 0o777, 0o600);
    const principal = await holder();
    assert.equal(principal.name, 'ada');
    assert.equal(principal.role, 'admin');
  });

  it('makes a new admin when the token file outlived its store (rm -rf .kiln/db)', async () => {
    assert.equal(await audit([], print), 0);
    const stale = await readFile(tokenFile(), 'utf8');
    await rm(join(home, 'db'), { recursive: true, force: true });

    assert.equal(await audit([], print), 0);
    const fresh = await readFile(tokenFile(), 'utf8');
    assert.notEqual(fresh, stale);
    assert.equal((await stat(tokenFile())).mode & 0o777, 0o600);
    assert.equal((await holder()).role, 'admin');
  });

  it('refuses a stale token file on a store that has principals, naming the file', async () => {
    const store = await openStore({ dir: join(home, 'db') });
    await store.access.createToken(SYSTEM, { name: 'grace', role: 'admin' });
    await store.close();
    await writeFile(tokenFile(), 'kiln_stale_token\n', { mode: 0o600 });

    await assert.rejects(
      audit([], print),
      (e: Error) =>
        e.name === 'AuthenticationError' &&
        e.message.includes(tokenFile()) &&
        /not valid for this store/.test(e.message) &&
        /--token/.test(e.message),
    );
    assert.equal(await readFile(tokenFile(), 'utf8'), 'kiln_stale_token\n', 'the file is left as it was');
    const after = await openStore({ dir: join(home, 'db') });
    try {
      assert.deepEqual(
        (await after.access.listPrincipals(SYSTEM)).map((p) => p.name),
        ['grace'],
        'no admin was made behind the existing one',
      );
    } finally {
      await after.close();
    }
  });
});
