import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BOOTSTRAP_RESAMPLES,
  BOOTSTRAP_SEED,
  binaryIntervals,
  bootstrapIntervals,
} from '../../activities/common/metrics/bootstrap';
import { binaryMetrics, LOG_LOSS_EPS } from '../../activities/common/metrics/classification';
import { mulberry32 } from '../../activities/common/random';

const random = mulberry32(7);
const outcomes = Array.from({ length: 400 }, (): number => (random() < 0.3 ? 1 : 0));
const meanOf = (weights: Uint8Array) => ({
  rate: outcomes.reduce((sum, y, i) => sum + weights[i]! * y, 0) / outcomes.length,
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

describe('binary bootstrap intervals over weighted rows', () => {
  it('equal the intervals of binaryMetrics recomputed on each resample drawn the same way, ties included', () => {
    const rows = 300;
    const r = mulberry32(3);
    const y = Array.from({ length: rows }, (): number => (r() < 0.4 ? 1 : 0));
    // Rounded scores make ties, which ROC AUC must share out as binaryMetrics does.
    const s = y.map((v) => Math.round(Math.min(1, Math.max(0, 0.25 * v + 0.75 * r())) * 20) / 20);
    const fast = binaryIntervals(y, s, 0.5, LOG_LOSS_EPS);
    // Resamples are drawn over the rows in score order (a stable sort), as binaryIntervals draws them.
    const order = Array.from({ length: rows }, (_, i) => i).sort((a, b) => s[a]! - s[b]!);
    const draw = mulberry32(BOOTSTRAP_SEED);
    const samples = new Map<string, number[]>();
    for (let k = 0; k < BOOTSTRAP_RESAMPLES; k++) {
      const picked = Array.from({ length: rows }, () => order[Math.floor(draw() * rows)]!);
      const { confusion: _c, ...m } = binaryMetrics(
        picked.map((i) => y[i]!),
        picked.map((i) => s[i]!),
        0.5,
      );
      for (const [name, v] of Object.entries(m)) samples.set(name, [...(samples.get(name) ?? []), v]);
    }
    const percentile = (values: number[], q: number) => {
      const sorted = [...values].sort((a, b) => a - b);
      const at = q * (sorted.length - 1);
      const lo = Math.floor(at);
      return sorted[lo]! + (sorted[Math.min(lo + 1, sorted.length - 1)]! - sorted[lo]!) * (at - lo);
    };
    for (const name of ['accuracy', 'precision', 'recall', 'f1', 'rocAuc', 'logLoss', 'brierScore']) {
      const slow = samples.get(name)!;
      assert.ok(Math.abs(fast.intervals[name]!.low - percentile(slow, 0.025)) < 1e-9, name);
      assert.ok(Math.abs(fast.intervals[name]!.high - percentile(slow, 0.975)) < 1e-9, name);
    }
  });
});
