import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import {
  enforceGates,
  compareChampion,
  formatPair,
  type ChampionFailureDetails,
  type GateFailureDetails,
} from '../../../../activities/common/gates/judge';

function failure(fn: () => unknown): ApplicationFailure {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a failure');
}

const metrics = { roc_auc: 0.712, accuracy: 0.81, log_loss: 0.48 };

describe('enforceGates', () => {
  it('returns every outcome when all gates pass, bars inclusive', () => {
    const outcomes = enforceGates(metrics, [
      { metric: 'roc_auc', min: 0.712 },
      { metric: 'log_loss', max: 0.5 },
      { metric: 'accuracy', min: 0.7, max: 0.9 },
    ]);
    assert.deepEqual(outcomes, [
      { metric: 'roc_auc', value: 0.712, min: 0.712, passed: true },
      { metric: 'log_loss', value: 0.48, max: 0.5, passed: true },
      { metric: 'accuracy', value: 0.81, min: 0.7, max: 0.9, passed: true },
    ]);
  });

  it('fails non-retryably as GateFailed, naming metric, value and bar', () => {
    const f = failure(() => enforceGates(metrics, [{ metric: 'roc_auc', min: 0.75 }]));
    assert.equal(f.type, 'GateFailed');
    assert.equal(f.nonRetryable, true);
    assert.equal(f.message, 'roc_auc 0.712 is below the gate 0.750');
    const details = f.details?.[0] as GateFailureDetails;
    assert.deepEqual(
      { metric: details.metric, value: details.value, bar: details.bar, bound: details.bound },
      { metric: 'roc_auc', value: 0.712, bar: 0.75, bound: 'min' },
    );
  });

  it('names a maximum that was exceeded', () => {
    assert.equal(
      failure(() => enforceGates(metrics, [{ metric: 'log_loss', max: 0.4 }])).message,
      'log_loss 0.480 is above the gate 0.400',
    );
  });

  it('names every failed gate, not only the first', () => {
    const f = failure(() =>
      enforceGates(metrics, [
        { metric: 'roc_auc', min: 0.75 },
        { metric: 'accuracy', min: 0.5 },
        { metric: 'log_loss', max: 0.4 },
      ]),
    );
    assert.equal(f.message, 'roc_auc 0.712 is below the gate 0.750; log_loss 0.480 is above the gate 0.400');
    assert.deepEqual(
      (f.details?.[0] as GateFailureDetails).failures.map((x) => x.metric),
      ['roc_auc', 'log_loss'],
    );
  });

  it('prints enough digits to tell value from bar', () => {
    assert.equal(
      failure(() => enforceGates({ roc_auc: 0.7499 }, [{ metric: 'roc_auc', min: 0.75 }])).message,
      'roc_auc 0.7499 is below the gate 0.7500',
    );
  });

  it('fails a NaN metric rather than letting it pass', () => {
    const f = failure(() => enforceGates({ roc_auc: Number.NaN }, [{ metric: 'roc_auc', min: 0.5 }]));
    assert.equal(f.type, 'GateFailed');
    assert.match(f.message, /roc_auc is NaN .* cannot meet the gate >= 0.5/);
  });

  it('reports a metric that was never computed as its own error, listing what was', () => {
    const f = failure(() => enforceGates(metrics, [{ metric: 'pr_auc', min: 0.5 }]));
    assert.equal(f.type, 'GateMetricMissing');
    assert.equal(f.nonRetryable, true);
    assert.match(f.message, /no metric 'pr_auc' .* reported are accuracy, log_loss, roc_auc/);
  });

  it('refuses a gate without a bar', () => {
    assert.equal(failure(() => enforceGates(metrics, [{ metric: 'roc_auc' }])).type, 'GateInvalid');
    assert.equal(failure(() => enforceGates(metrics, [{ metric: 'roc_auc', min: 0.9, max: 0.1 }])).type, 'GateInvalid');
  });
});

describe('compareChampion', () => {
  const rule = { metric: 'roc_auc', higherIsBetter: true, margin: 0.02 };

  it('passes a challenger worse than the champion by no more than the margin', () => {
    const outcome = compareChampion({ roc_auc: 0.74 }, { roc_auc: 0.76 }, rule);
    assert.equal(outcome.passed, true);
    assert.ok(Math.abs(outcome.bar! - 0.74) < 1e-12);
  });

  it('fails a challenger worse by more than the margin, with the numbers', () => {
    const f = failure(() => compareChampion({ roc_auc: 0.712 }, { roc_auc: 0.76 }, rule));
    assert.equal(f.type, 'GateFailed');
    assert.equal(f.nonRetryable, true);
    assert.equal(f.message, 'roc_auc 0.712 is below the champion bar 0.740 (champion 0.760 - margin 0.020)');
    const details = f.details?.[0] as ChampionFailureDetails;
    assert.equal(details.champion, 0.76);
    assert.equal(details.value, 0.712);
  });

  it('reads lower-is-better metrics the other way', () => {
    const lossRule = { metric: 'log_loss', higherIsBetter: false, margin: 0 };
    assert.equal(compareChampion({ log_loss: 0.4 }, { log_loss: 0.45 }, lossRule).passed, true);
    assert.equal(
      failure(() => compareChampion({ log_loss: 0.5 }, { log_loss: 0.45 }, lossRule)).message,
      'log_loss 0.500 is above the champion bar 0.450 (champion 0.450 + margin 0.000)',
    );
  });

  it('passes the first model, when there is no champion', () => {
    assert.deepEqual(compareChampion({ roc_auc: 0.6 }, null, rule), {
      metric: 'roc_auc',
      challenger: 0.6,
      champion: null,
      margin: 0.02,
      higherIsBetter: true,
      bar: null,
      passed: true,
    });
  });

  it('says which side lacks the metric', () => {
    const f = failure(() => compareChampion({ roc_auc: 0.8 }, { accuracy: 0.9 }, rule));
    assert.equal(f.type, 'GateMetricMissing');
    assert.match(f.message, /no metric 'roc_auc' in the champion metrics/);
  });

  it('refuses a negative margin', () => {
    assert.equal(
      failure(() => compareChampion({ roc_auc: 0.8 }, { roc_auc: 0.8 }, { ...rule, margin: -0.1 })).type,
      'GateInvalid',
    );
  });
});

describe('formatPair', () => {
  it('keeps three decimals when they differ and adds digits until they do', () => {
    assert.deepEqual(formatPair(0.712, 0.75), ['0.712', '0.750']);
    assert.deepEqual(formatPair(0.74999, 0.75), ['0.74999', '0.75000']);
    assert.deepEqual(formatPair(0.75, 0.75), ['0.750', '0.750']);
  });
});
