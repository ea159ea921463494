import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { championRule, gateDeclaration, metricGate } from '../../../../activities/common/gates/schema';

describe('gate declarations', () => {
  it('accepts thresholds and a champion rule, filling defaults', () => {
    const parsed = gateDeclaration.parse({
      thresholds: [
        { metric: 'roc_auc', min: 0.75 },
        { metric: 'sex.demographic_parity_difference', max: 0.1 },
      ],
      champion: { metric: 'roc_auc', higherIsBetter: true },
    });
    assert.deepEqual(parsed.champion, { metric: 'roc_auc', higherIsBetter: true, margin: 0, alias: 'production' });
    assert.equal(parsed.thresholds.length, 2);
    assert.deepEqual(gateDeclaration.parse({}), { thresholds: [] });
  });

  it('rejects a gate with no bar', () => {
    const result = metricGate.safeParse({ metric: 'roc_auc' });
    assert.equal(result.success, false);
    assert.match(result.error!.issues[0]!.message, /needs a min, a max or both/);
  });

  it('rejects min above max', () => {
    const result = metricGate.safeParse({ metric: 'roc_auc', min: 0.9, max: 0.8 });
    assert.equal(result.success, false);
    assert.match(result.error!.issues[0]!.message, /min must not exceed max/);
  });

  it('rejects a metric name that is not snake_case and a negative margin', () => {
    assert.equal(metricGate.safeParse({ metric: 'ROC AUC', min: 0.5 }).success, false);
    assert.equal(championRule.safeParse({ metric: 'roc_auc', higherIsBetter: true, margin: -0.01 }).success, false);
  });
});
