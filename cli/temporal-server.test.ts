import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { describe, it } from 'node:test';
import { Connection } from '@temporalio/client';
import { findTemporalCli, freePort, isServerUp, startDevServer } from './temporal-server';

const listen = (port: number) =>
  new Promise<Server>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

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
