import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bootstrapIntervals } from '../../activities/common/metrics/bootstrap';
import { mulberry32 } from '../../activities/common/random';

const random = mulberry32(7);
const outcomes = Array.from({ length: 400 }, () => (random() < 0.3 ? 1 : 0));
const meanOf = (rows: readonly number[]) => ({
  rate: rows.reduce((sum, i) => sum + outcomes[i]!, 0) / rows.length,
  undefinedHere: Number.NaN,
});

describe("a model card's bootstrap intervals", () => {
  it('are the same for the same rows every time (seeded)', () => {
    assert.deepEqual(bootstrapIntervals(outcomes.length, meanOf), bootstrapIntervals(outcomes.length, meanOf));
  });

  it('match the normal approximation for a proportion, and leave out a metric that is never defined', () => {
    const p = outcomes.reduce((a, b) => a + b, 0) / outcomes.length;
    const half = 1.96 * Math.sqrt((p * (1 - p)) / outcomes.length);
    const { intervals, level, resamples } = bootstrapIntervals(outcomes.length, meanOf, { resamples: 1000 });
    assert.deepEqual([level, resamples], [0.95, 1000]);
    assert.ok(Math.abs(intervals.rate!.low - (p - half)) < 0.012, JSON.stringify({ p, half, intervals }));
    assert.ok(Math.abs(intervals.rate!.high - (p + half)) < 0.012, JSON.stringify({ p, half, intervals }));
    assert.equal(intervals.undefinedHere, undefined);
  });
});
