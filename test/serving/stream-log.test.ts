import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { SYSTEM, type Store } from '../../store';
import { predictions } from '../../store/schema/serving';
import type { PredictionInput } from '../../store/serving';
import { testBackends } from '../support/backends';

// kiln stream's log write (recordPredictionsOnce) is one INSERT ... ON CONFLICT DO NOTHING on the
// unique index predictions_once_idx: a redelivered event's rows, racing writers and a batch that
// holds one event twice all leave each (request, model, row, served) logged once.

const rows = (request: string, n: number, served = true): PredictionInput[] =>
  Array.from({ length: n }, (_, i) => ({
    requestId: request,
    rowIndex: i,
    model: 'sensor',
    version: 1,
    route: served ? ('current' as const) : ('shadow' as const),
    served,
    at: new Date(),
    features: { t: i },
    probabilities: [0.4, 0.6],
    label: 'b',
    latencyMs: 1,
  }));

for (const backend of testBackends()) {
  describe(`the idempotent prediction log write on ${backend.name}`, () => {
    let store: Store;
    before(async () => {
      store = await backend.open();
    });
    after(() => backend.close());
    const logged = async (request: string) =>
      (await store.db.select().from(predictions).where(eq(predictions.requestId, request))).length;

    it('writes a redelivered event’s rows once and counts only the new ones', async () => {
      assert.equal(await store.serving.recordPredictionsOnce(SYSTEM, rows('e1', 3)), 3);
      assert.equal(await store.serving.recordPredictionsOnce(SYSTEM, [...rows('e1', 3), ...rows('e2', 2)]), 2);
      assert.equal(await logged('e1'), 3);
    });

    it('logs an event once when racing writers and a batch holding it twice write it together', async () => {
      const batch = [...rows('e3', 4), ...rows('e3', 4), ...rows('e3', 1, false)];
      const written = await Promise.all([0, 1, 2].map(() => store.serving.recordPredictionsOnce(SYSTEM, batch)));
      assert.equal(
        written.reduce((a, b) => a + b, 0),
        5,
      );
      assert.equal(await logged('e3'), 5, 'four served rows and the shadow row');
    });
  });
}
