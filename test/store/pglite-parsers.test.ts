import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import type { Store } from '../../store';
import { rows } from '../../store/executor';
import { testBackends } from '../support/backends';

// drizzle asks for timestamps, dates and intervals as PostgreSQL's text; over PGlite the store
// gives that to the client once (store/pglite-parsers.ts) rather than with every query.
const moments = sql`select timestamptz '2026-01-02 03:04:05.678+00' as at, date '2026-01-02' as day,
  interval '1 day' as span, array[timestamptz '2026-01-02 03:04:05+00'] as ats`;
const expected = {
  at: '2026-01-02 03:04:05.678+00',
  day: '2026-01-02',
  span: '1 day',
  ats: '{"2026-01-02 03:04:05+00"}',
};

for (const backend of testBackends()) {
  describe(`raw statements read moments as text (${backend.name})`, () => {
    let store: Store;
    before(async () => {
      store = await backend.open();
    });
    after(() => backend.close());

    it('outside a transaction and inside one, on the first statement and every later one', async () => {
      for (let i = 0; i < 2; i++) {
        assert.deepEqual((await rows(store.db, moments))[0], expected);
        assert.deepEqual(await store.db.transaction(async (tx) => (await rows(tx, moments))[0]), expected);
      }
    });
  });
}
