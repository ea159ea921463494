import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scoreOrder } from '../../../../activities/common/metrics/score-order';
import { mulberry32 } from '../../../../activities/common/random';

/** The comparator sort scoreOrder stands in for. */
const sorted = (values: readonly number[], direction: 'ascending' | 'descending') =>
  values
    .map((_, i) => i)
    .sort(direction === 'ascending' ? (a, b) => values[a]! - values[b]! : (a, b) => values[b]! - values[a]!);

describe('scoreOrder', () => {
  const random = mulberry32(5);
  const cases: Record<string, number[]> = {
    'probabilities with many ties': Array.from({ length: 20_000 }, () => Math.round(random() * 100) / 100),
    'signed values across magnitudes': Array.from(
      { length: 20_000 },
      () => (random() - 0.5) * 10 ** Math.floor(random() * 12 - 6),
    ),
    'zeros of both signs, infinities and extremes': [
      0,
      -0,
      1,
      -1,
      -0,
      0,
      Infinity,
      -Infinity,
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
      Number.MIN_VALUE,
      -Number.MIN_VALUE,
      0.5,
      -0.5,
      -0,
    ],
    'one value': [0.3],
    'no values': [],
    'all the same': Array.from({ length: 5000 }, () => 0.25),
  };
  for (const [name, values] of Object.entries(cases)) {
    for (const direction of ['ascending', 'descending'] as const) {
      it(`orders ${name} as the stable comparator sort does, ${direction}`, () => {
        assert.deepEqual([...scoreOrder(values, direction)], sorted(values, direction));
      });
    }
  }

  it('reads a Float64Array as it reads an array', () => {
    const values = cases['signed values across magnitudes']!;
    assert.deepEqual(scoreOrder(Float64Array.from(values), 'descending'), scoreOrder(values, 'descending'));
  });
});
