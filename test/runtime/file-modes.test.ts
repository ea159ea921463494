import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ArtifactStore } from '../../activities/artifacts/store';
import { bootstrapLocalAdmin, openKilnStore } from '../../cli/store';
import { startDevServer } from '../../cli/temporal-server';
import { loadConfig } from '../../runtime/config';

// Another user on a shared host reads Kiln's home: the store, the admin token, artifacts, and the
// Temporal database. A umask that lets everyone read is the common default; Kiln must not rely on it.
process.umask(0o022);
const base = mkdtempSync(join(tmpdir(), 'kiln-modes-'));
after(() => rmSync(base, { recursive: true, force: true }));

const mode = (path: string) => statSync(path).mode & 0o777;
const octal = (n: number) => `0${n.toString(8)}`;

describe('file modes of a fresh KILN_HOME', () => {
  it('creates the home, the PGlite store, the token, the artifacts and the Temporal database for this user only', async () => {
    const config = loadConfig({ KILN_HOME: join(base, 'home') });
    const store = await openKilnStore(config, { share: true });
    try {
      await bootstrapLocalAdmin(store, config, () => {});
    } finally {
      await store.close();
    }
    const artifacts = new ArtifactStore(config.artifactsDir);
    const stored = await artifacts.put('the rows of a dataset');
    await artifacts.putStream(
      (async function* () {
        yield 'a model';
      })(),
    );
    const server = await startDevServer({ headless: true, dbFile: join(config.home, 'temporal.db') });
    await server.stop();

    for (const dir of [
      config.home,
      join(config.home, 'db'),
      config.artifactsDir,
      join(config.artifactsDir, 'sha256'),
      join(config.artifactsDir, 'tmp'),
    ])
      assert.equal(octal(mode(dir)), '0700', dir);
    const files = [join(config.home, 'token'), artifacts.pathOf(stored.sha256), join(config.home, 'temporal.db')];
    for (const file of files) assert.equal(octal(mode(file)), '0600', file);
    // Whatever else lies in the home is inside folders only this user may enter.
    for (const entry of readdirSync(config.home, { withFileTypes: true })) {
      const path = join(config.home, entry.name);
      if (entry.isDirectory()) assert.equal(octal(mode(path)), '0700', path);
    }
  });
});
