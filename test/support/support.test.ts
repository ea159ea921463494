import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { postgres } from './postgres';
import { temporal } from './temporal';

describe('integration test support', { timeout: 120_000 }, () => {
  it('gives a Temporal client connected to a server that knows the namespace', async () => {
    const t = await temporal();
    try {
      const { namespaceInfo } = await t.connection.workflowService.describeNamespace({ namespace: t.namespace });
      assert.equal(namespaceInfo?.name, t.namespace);
      assert.equal(t.client.options.namespace, t.namespace);
    } finally {
      await t.stop();
    }
  });

  it('gives each caller an empty database of its own that is gone after stop', async () => {
    const [a, b] = await Promise.all([postgres(), postgres()]);
    try {
      assert.notEqual(a.url, b.url);
      const client = new pg.Client({ connectionString: a.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ n: number }>(
          "select count(*)::int as n from pg_tables where schemaname = 'public'",
        );
        assert.deepEqual(rows, [{ n: 0 }]);
      } finally {
        await client.end();
      }
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    await assert.rejects(async () => {
      const client = new pg.Client({ connectionString: a.url });
      await client.connect();
      await client.end();
    });
  });
});
