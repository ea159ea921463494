import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MapResults, SPILL_BYTES, type ValueStore } from '../../workflows/map-results';
import type { ChunkRef } from '../../workflows/protocol';

/** A value store in memory: chunks by a counter, joined as the worker's activity joins them. */
function memoryStore() {
  const chunks = new Map<string, Array<[number, unknown]>>();
  const store: ValueStore = {
    async put(entries) {
      const uri = `chunk:${chunks.size}`;
      chunks.set(uri, entries);
      return { uri, sha256: '0'.repeat(64), size: JSON.stringify(entries).length } satisfies ChunkRef;
    },
    async join({ chunks: refs, count }) {
      const values = new Array<unknown>(count);
      for (const ref of refs) for (const [i, v] of chunks.get(ref.uri)!) values[i] = v;
      return { $kilnValues: { uri: `joined:${JSON.stringify(values)}`, sha256: '1'.repeat(64), size: 0, count } };
    },
  };
  return { store, chunks };
}

describe('a map’s item results', () => {
  it('stay a list in item order while they are small', async () => {
    const { store, chunks } = memoryStore();
    const results = new MapResults('m', 3, undefined, store);
    await results.add(2, 'c');
    await results.add(0, 'a');
    await results.add(1, 'b');
    assert.deepEqual(await results.output(), ['a', 'b', 'c']);
    assert.equal(chunks.size, 0);
  });

  it('go to the store once their buffer passes the spill size, and the output is a reference', async () => {
    const { store, chunks } = memoryStore();
    const big = 'x'.repeat(SPILL_BYTES / 2);
    const results = new MapResults('m', 3, undefined, store);
    for (let i = 0; i < 3; i++) await results.add(i, big);
    assert.equal(chunks.size, 1, 'the first two results were written out together');
    const output = await results.output();
    assert.ok(!Array.isArray(output));
    assert.equal(output.$kilnValues.count, 3);
    assert.equal(output.$kilnValues.uri, `joined:${JSON.stringify([big, big, big])}`);
  });

  it('carry finished items as ranges and their results as chunks, and skip them in the next generation', async () => {
    const { store } = memoryStore();
    const first = new MapResults('m', 6, undefined, store);
    for (const i of [0, 1, 2, 4]) await first.add(i, i * 10);
    const progress = await first.progress();
    assert.deepEqual(progress.done, [
      [0, 2],
      [4, 4],
    ]);
    assert.equal(progress.chunks.length, 1);

    const next = new MapResults('m', 6, progress, store);
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5].map((i) => next.has(i)),
      [true, true, true, false, true, false],
    );
    assert.ok(next.holds('m[4].train') && !next.holds('m[3].train') && !next.holds('other[4].train'));
    await next.add(3, 30);
    await next.add(5, 50);
    const output = await next.output();
    assert.ok(!Array.isArray(output));
    assert.equal(output.$kilnValues.uri, `joined:${JSON.stringify([0, 10, 20, 30, 40, 50])}`);
  });

  it('stay in memory without a store, for runs started before maps spilled', async () => {
    const results = new MapResults('m', 2, undefined);
    await results.add(0, 'x'.repeat(SPILL_BYTES));
    await results.add(1, 'y');
    assert.deepEqual(await results.output(), ['x'.repeat(SPILL_BYTES), 'y']);
  });
});
