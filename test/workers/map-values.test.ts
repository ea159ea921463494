import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { loadValueRefs, mapValueActivities } from '../../workers/map-values';
import { fileTestContext } from '../support/step-context';

const ctx = fileTestContext();

const failsAs = (type: string, message: RegExp) => (error: unknown) => {
  assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
  assert.equal(error.type, type);
  assert.equal(error.nonRetryable, true);
  assert.match(error.message, message);
  return true;
};

describe('a map’s results in the artifact store', () => {
  it('joins chunks in item order, and a step’s input gets the list wherever the reference sits', async () => {
    const activities = mapValueActivities(ctx.artifacts);
    const first = await activities['kiln.putValues']([
      [2, { sum: 3 }],
      [0, { sum: 1 }],
    ]);
    const second = await activities['kiln.putValues']([[1, { sum: 2 }]]);
    const ref = await activities['kiln.joinValues']({ chunks: [first, second], count: 3 });
    assert.equal(ref.$kilnValues.count, 3);
    const input = await loadValueRefs({ trials: ref, nested: [{ again: ref }], n: 1 }, ctx.artifacts);
    const list = [{ sum: 1 }, { sum: 2 }, { sum: 3 }];
    assert.deepEqual(input, { trials: list, nested: [{ again: list }], n: 1 });
  });

  it('refuses to join when an item is in no chunk, naming it', async () => {
    const activities = mapValueActivities(ctx.artifacts);
    const chunk = await activities['kiln.putValues']([[0, 'a']]);
    await assert.rejects(
      activities['kiln.joinValues']({ chunks: [chunk], count: 2 }),
      failsAs('NotFound', /item 1 of 2 is in none of 1 chunks/),
    );
  });

  it('refuses to join a chunk holding an item past the end of the map, naming it', async () => {
    const activities = mapValueActivities(ctx.artifacts);
    const chunk = await activities['kiln.putValues']([
      [0, 'a'],
      [4, 'e'],
    ]);
    await assert.rejects(
      activities['kiln.joinValues']({ chunks: [chunk], count: 2 }),
      failsAs('InvalidInput', /item 4 is in a chunk, but the map has 2 items/),
    );
  });

  it('reads only artifact uris: a plan’s literal reference cannot name a file or a path', async () => {
    for (const uri of ['file:///etc/passwd', 'artifact:sha256:../../../../etc/passwd', '/proc/self/environ']) {
      await assert.rejects(
        loadValueRefs({ xs: { $kilnValues: { uri, sha256: '', size: 0, count: 1 } } }, ctx.artifacts),
        failsAs('InvalidInput', /is not an artifact uri/),
      );
    }
    await assert.rejects(
      loadValueRefs({ $kilnValues: null }, ctx.artifacts),
      failsAs('InvalidInput', /is not an artifact uri/),
    );
    await assert.rejects(
      loadValueRefs({ $kilnValues: { uri: `artifact:sha256:${'0'.repeat(64)}` } }, ctx.artifacts),
      failsAs('NotFound', /is not in the artifact store/),
    );
  });

  it('leaves an object that merely has a $kilnValues key among others as it is', async () => {
    const value = { $kilnValues: 'text', other: 1 };
    assert.deepEqual(await loadValueRefs(value, ctx.artifacts), value);
  });
});
