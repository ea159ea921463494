import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  demographicParityDifference,
  demographicParityRatio,
  equalizedOddsDifference,
  fairnessMetricValues,
  fairnessReport,
  groupRates,
  selectionRates,
} from '../../../activities/evaluate/fairness-report';

const close = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) <= 1e-12, `expected ${expected}, got ${actual}`);

// A constructed case, worked by hand:
//   group a (5 rows): labels 1 1 1 0 0, predictions 1 1 0 1 0
//     selection 3/5 = 0.6, TPR 2/3, FPR 1/2
//   group b (4 rows): labels 1 0 0 0, predictions 1 0 0 0
//     selection 1/4 = 0.25, TPR 1, FPR 0
//   group c (3 rows): labels 1 1 0, predictions 0 1 1
//     selection 2/3, TPR 1/2, FPR 1
// demographic parity difference 2/3 − 1/4 = 5/12; ratio (1/4)/(2/3) = 3/8
// TPR difference 1 − 1/2 = 1/2; FPR difference 1 − 0 = 1; equalized odds difference max = 1
const yTrue = [1, 1, 1, 0, 0, 1, 0, 0, 0, 1, 1, 0];
const yPred = [1, 1, 0, 1, 0, 1, 0, 0, 0, 0, 1, 1];
const group = ['a', 'a', 'a', 'a', 'a', 'b', 'b', 'b', 'b', 'c', 'c', 'c'];

describe('fairness on a constructed case', () => {
  it('counts and rates each group', () => {
    const [a, b, c] = groupRates(yTrue, yPred, group);
    assert.deepEqual(
      { ...a, selectionRate: 0, truePositiveRate: 0 },
      {
        group: 'a',
        count: 5,
        positives: 3,
        negatives: 2,
        selected: 3,
        truePositives: 2,
        falsePositives: 1,
        selectionRate: 0,
        truePositiveRate: 0,
        falsePositiveRate: 0.5,
      },
    );
    close(a!.selectionRate, 0.6);
    close(a!.truePositiveRate, 2 / 3);
    assert.deepEqual([b!.selectionRate, b!.truePositiveRate, b!.falsePositiveRate], [0.25, 1, 0]);
    close(c!.selectionRate, 2 / 3);
    assert.deepEqual([c!.truePositiveRate, c!.falsePositiveRate], [0.5, 1]);
  });

  it('gives selection rates per group', () => {
    const rates = selectionRates(yTrue, yPred, group);
    assert.deepEqual(Object.keys(rates), ['a', 'b', 'c']);
    close(rates.c!, 2 / 3);
  });

  it('computes demographic parity difference as max − min selection rate: 5/12', () => {
    close(demographicParityDifference(yTrue, yPred, group), 5 / 12);
  });

  it('computes demographic parity ratio as min / max selection rate: 3/8', () => {
    close(demographicParityRatio(yTrue, yPred, group), 3 / 8);
  });

  it('computes equalized odds difference as the larger of the TPR (1/2) and FPR (1) differences', () => {
    close(equalizedOddsDifference(yTrue, yPred, group), 1);
    const report = fairnessReport(yTrue, yPred, group);
    close(report.truePositiveRateDifference, 0.5);
    close(report.falsePositiveRateDifference, 1);
  });

  it('measures disparate impact against the most selected group and applies the four-fifths rule', () => {
    const { disparateImpact } = fairnessReport(yTrue, yPred, group);
    assert.equal(disparateImpact.reference, 'c');
    assert.equal(disparateImpact.worstGroup, 'b');
    close(disparateImpact.minRatio, 3 / 8);
    close(disparateImpact.ratios.a!, 0.9);
    assert.equal(disparateImpact.passes, false);
  });

  it('measures disparate impact against a declared privileged group', () => {
    const { disparateImpact } = fairnessReport(yTrue, yPred, group, { reference: 'a' });
    close(disparateImpact.ratios.c!, 2 / 3 / 0.6);
    close(disparateImpact.minRatio, 0.25 / 0.6);
    const ac = group.map((g) => (g === 'b' ? 'c' : g));
    // a 3/5 vs c (b and c merged) 3/7: 5/7 ≈ 0.714 fails the rule; a lower bar passes it.
    assert.equal(fairnessReport(yTrue, yPred, ac, { reference: 'a' }).disparateImpact.passes, false);
    assert.equal(fairnessReport(yTrue, yPred, ac, { reference: 'a', threshold: 0.7 }).disparateImpact.passes, true);
  });

  it('refuses a reference group that does not occur', () => {
    assert.throws(
      () => fairnessReport(yTrue, yPred, group, { reference: 'z' }),
      /reference group 'z' does not occur.*'a', 'b', 'c'/,
    );
  });

  it('names its measures for gates, with a prefix per attribute', () => {
    const values = fairnessMetricValues(fairnessReport(yTrue, yPred, group), 'sex.');
    close(values['sex.demographic_parity_difference']!, 5 / 12);
    close(values['sex.disparate_impact_ratio']!, 3 / 8);
  });
});

describe('fairness edge cases, as fairlearn handles them', () => {
  it('takes TPR 0 for a group with no positive label, so it counts in the TPR difference', () => {
    // fairlearn: equalized_odds_difference([0,0,1,1,0,0], [0,0,1,0,0,0], sensitive_features=list('aaaabb')) == 0.5
    const y = [0, 0, 1, 1, 0, 0];
    const p = [0, 0, 1, 0, 0, 0];
    const s = ['a', 'a', 'a', 'a', 'b', 'b'];
    const report = fairnessReport(y, p, s);
    assert.equal(report.groups[1]!.truePositiveRate, 0);
    assert.deepEqual(report.undefinedRates, [{ group: 'b', rate: 'truePositiveRate' }]);
    assert.equal(report.equalizedOddsDifference, 0.5);
    assert.equal(report.demographicParityRatio, 0);
  });

  it('gives a NaN ratio, and no four-fifths pass, when no group is ever selected', () => {
    const report = fairnessReport([0, 1, 0, 1], [0, 0, 0, 0], ['a', 'a', 'b', 'b']);
    assert.ok(Number.isNaN(report.demographicParityRatio));
    assert.equal(report.demographicParityDifference, 0);
    assert.ok(Number.isNaN(report.disparateImpact.minRatio));
    assert.equal(report.disparateImpact.passes, false);
  });

  it('lists groups in code-point order, as pandas sorts them', () => {
    assert.deepEqual(
      groupRates([0, 0, 0], [0, 1, 0], ['b', 'B', 'a']).map((g) => g.group),
      ['B', 'a', 'b'],
    );
  });

  it('refuses predictions that are scores rather than 0/1 and rows without a group', () => {
    assert.throws(
      () => fairnessReport([0, 1], [0.2, 0.7], ['a', 'b']),
      /yPred\[0\] is 0.2; binary labels must be 0 or 1/,
    );
    assert.throws(() => fairnessReport([0, 1], [0, 1], ['a', null as unknown as string]), /sensitive\[1\] is null/);
  });
});
