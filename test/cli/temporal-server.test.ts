import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Connection } from '@temporalio/client';
import { findTemporalCli, freePort, isServerUp, startDevServer } from '../../cli/temporal-server';

// The readiness probe's gRPC channel keeps its socket to a blocker open, so closing the
// blocker also destroys the sockets it accepted.
const accepted = new WeakMap<Server, Set<Socket>>();
const listen = (port: number) =>
  new Promise<Server>((resolve, reject) => {
    const sockets = new Set<Socket>();
    const server = createServer((socket) => sockets.add(socket));
    accepted.set(server, sockets);
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    for (const socket of accepted.get(server) ?? []) socket.destroy();
  });

describe('temporal dev server', { timeout: 120_000 }, () => {
  it('finds a Temporal CLI that reports its version', async () => {
    const cli = await findTemporalCli();
    assert.match(cli, /temporal$/);
  });

  it('starts a headless in-memory server that answers, then stops it and frees its port', async () => {
    const started = Date.now();
    const server = await startDevServer({ headless: true, dbFile: ':memory:' });
    console.log(`dev server answered after ${Date.now() - started} ms`);
    try {
      assert.equal(server.uiUrl, undefined);
      assert.ok(await isServerUp(server.address));
      const connection = await Connection.connect({ address: server.address });
      const { namespaceInfo } = await connection.workflowService.describeNamespace({ namespace: 'default' });
      assert.equal(namespaceInfo?.name, 'default');
      await connection.close();
    } finally {
      await server.stop();
    }
    await server.stop();
    assert.equal(await isServerUp(server.address), false);
    const port = Number(server.address.split(':')[1]);
    await close(await listen(port));
  });

  it('serves the Web UI and keeps its state in the SQLite file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-temporal-'));
    const dbFile = join(dir, 'nested', 'temporal.db');
    const server = await startDevServer({ dbFile });
    try {
      assert.ok(server.uiUrl);
      const response = await fetch(server.uiUrl);
      assert.equal(response.status, 200);
      assert.ok((await stat(dbFile)).size > 0);
    } finally {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails with the server output when the port is taken', async () => {
    const port = await freePort();
    const blocker = await listen(port);
    try {
      await assert.rejects(startDevServer({ headless: true, dbFile: ':memory:', port }), (error: Error) => {
        assert.equal(error.name, 'TemporalServerError');
        assert.match(error.message, /exited early/);
        assert.match(error.message, /output ended with/);
        return true;
      });
    } finally {
      await close(blocker);
    }
  });

  it('reports no server at an address nobody listens on', async () => {
    assert.equal(await isServerUp(`127.0.0.1:${await freePort()}`, 500), false);
  });
});
