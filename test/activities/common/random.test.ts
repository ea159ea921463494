import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countDraws, mulberry32 } from '../../../activities/common/random';

describe('countDraws', () => {
  for (const seed of [7, 0x9e3779b9, -1]) {
    it(`counts the indices mulberry32(${seed}) draws, and continues its stream (seed ${seed})`, () => {
      const n = 1000;
      const random = mulberry32(seed);
      const expected = new Uint8Array(n);
      const counts = new Uint8Array(n);
      let state = seed;
      for (let round = 0; round < 3; round++) {
        expected.fill(0);
        for (let i = 0; i < n; i++) expected[Math.floor(random() * n)]!++;
        counts.fill(0);
        state = countDraws(counts, n, state);
        assert.deepEqual(counts, expected, `round ${round}`);
      }
      // The state answered is the stream's: the next draw is the closure's next draw.
      assert.equal(mulberry32(state)(), random());
    });
  }

  it('refuses an index drawn a 256th time instead of wrapping its count to zero', () => {
    const counts = new Uint8Array(1);
    assert.equal(countDraws(counts, 255, 7) >>> 0, (7 + 255 * 0x6d2b79f5) >>> 0);
    assert.equal(counts[0], 255);
    counts.fill(0);
    assert.throws(() => countDraws(counts, 256, 7), {
      name: 'RangeError',
      message: /index 0 was drawn more than 255 times/,
    });
  });
});
