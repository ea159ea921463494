import { z } from 'zod';
import { defineStep } from '../../dsl';
import { datasetRef, modelRef, reportRef } from '../refs';
import { metricGate } from '../common/gates/schema';

// Definitions only (zod, dsl, refs): pipelines import these; the implementations live beside them, one file per step.

export const classificationMetrics = z.object({
  accuracy: z.number(),
  precision: z.number(),
  recall: z.number(),
  f1: z.number(),
  rocAuc: z.number(),
  logLoss: z.number(),
  prAuc: z.number().describe("average precision, as scikit-learn's average_precision_score"),
  brierScore: z.number().describe('mean squared gap between predicted probability and 0/1 label'),
  calibrationError: z.number().describe('expected calibration error over 10 equal-width probability bins'),
  rows: z.number().int().positive(),
});

/**
 * Scores a classifier on a dataset: accuracy, precision, recall and F1 at 0.5, ROC AUC, PR AUC
 * (average precision), Brier score and expected calibration error (10 equal-width bins), log loss.
 * For a binary model the probability metrics are of the positive class; for multiclass, precision,
 * recall and F1 are macro-averaged and ROC AUC, PR AUC, Brier score and calibration error are the
 * macro average of each class against the rest. The ROC points, reliability curve and confusion
 * matrix go to a report artifact. Validation gates name these metrics in snake_case (pr_auc,
 * brier_score, calibration_error).
 * @example const evaluation = p.step(evaluateClassifier, { model: trained.model, dataset: split.test });
 */
export const evaluateClassifier = defineStep({
  name: 'evaluate.classifier',
  version: '2',
  description:
    'Score a classifier on held-out data; metrics plus a JSON report with ROC curve, reliability curve and confusion matrix',
  input: z.object({ model: modelRef, dataset: datasetRef }),
  output: z.object({ metrics: classificationMetrics, report: reportRef }),
  options: { startToCloseTimeout: '30m', heartbeatTimeout: '1m' },
});

const gateOutcome = z.object({
  metric: z.string(),
  value: z.number().nullable(),
  min: z.number().optional(),
  max: z.number().optional(),
  passed: z.boolean(),
});

const isRegExp = (pattern: string) => {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
};

/**
 * How the rows of a sensitive column fall into groups: by exact value (`map`), by the first
 * regular expression a value matches (`match`), or by numeric boundaries (`bins: [25]` gives
 * '<25' and '>=25'). A value none of them covers goes to `other`, or fails the step when
 * `other` is not declared. Without a derivation each distinct value is its own group.
 * @example { column: 'personal_status', match: [{ pattern: '^female', group: 'female' }, { pattern: '^male', group: 'male' }] }
 * @example { column: 'age', bins: [25] }
 */
export const sensitiveGroups = z.union([
  z.strictObject({
    column: z.string().min(1),
    map: z
      .record(z.string(), z.string().min(1))
      .refine((m) => Object.keys(m).length > 0, 'map at least one value to a group'),
    other: z.string().min(1).optional(),
  }),
  z.strictObject({
    column: z.string().min(1),
    match: z
      .array(
        z.object({
          pattern: z.string().min(1).refine(isRegExp, 'not a valid regular expression'),
          group: z.string().min(1),
        }),
      )
      .min(1),
    other: z.string().min(1).optional(),
  }),
  z.strictObject({
    column: z.string().min(1),
    bins: z
      .array(z.number().finite())
      .min(1)
      .refine((b) => b.every((x, i) => i === 0 || x > b[i - 1]!), 'bin boundaries must be strictly ascending'),
    other: z.string().min(1).optional(),
  }),
]);
export type SensitiveGroups = z.infer<typeof sensitiveGroups>;

/**
 * The fairness measures under the names gates use (snake_cased by validate.gates). A ratio that is
 * 0/0 (no group, or not the reference group, is ever selected) is reported as 0 and listed in
 * `undefinedMetrics`, so a min gate on it fails rather than passes.
 */
export const fairnessMetrics = z.object({
  demographicParityDifference: z.number(),
  demographicParityRatio: z.number(),
  equalizedOddsDifference: z.number(),
  truePositiveRateDifference: z.number(),
  falsePositiveRateDifference: z.number(),
  disparateImpactRatio: z.number(),
  rows: z.number().int().positive(),
});

/**
 * Fairness of a binary classifier across the groups of one sensitive attribute (fairlearn's
 * definitions): selection rate per group, demographic parity difference and ratio, equalized odds
 * difference and disparate impact. `gates` are judged here, on the exact values (NaN included).
 * @example
 * const bySex = p.step(evaluateFairness, {
 *   model: trained.model, dataset: split.test,
 *   sensitive: { column: 'personal_status', match: [{ pattern: '^female', group: 'female' }, { pattern: '^male', group: 'male' }] },
 *   gates: [{ metric: 'demographic_parity_ratio', min: 0.8 }],
 * });
 */
export const evaluateFairness = defineStep({
  name: 'evaluate.fairness',
  version: '1',
  description:
    'Fairness of a binary classifier across the groups of a sensitive attribute; optional gates; a JSON report',
  input: z.object({
    model: modelRef,
    dataset: datasetRef,
    sensitive: z
      .union([z.string().min(1), sensitiveGroups])
      .describe('a column whose values are the groups, or a derivation of groups from a column'),
    threshold: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .describe('a row is selected (predicted positive) when its score is at or above this'),
    reference: z
      .string()
      .min(1)
      .optional()
      .describe('the privileged group for disparate impact; the most selected group if omitted'),
    gates: z
      .array(metricGate)
      .default([])
      .describe(
        'bars on demographic_parity_difference, demographic_parity_ratio, equalized_odds_difference, true_positive_rate_difference, false_positive_rate_difference, disparate_impact_ratio',
      ),
  }),
  output: z.object({
    metrics: fairnessMetrics,
    selectionRate: z.record(z.string(), z.number()),
    groupRows: z.record(z.string(), z.number().int().nonnegative()),
    undefinedMetrics: z.array(z.string()),
    outcomes: z.array(gateOutcome),
    report: reportRef,
  }),
  options: { startToCloseTimeout: '30m', heartbeatTimeout: '1m' },
});

/** Robustness measures under the names gates use; each drop is positive when the metric got worse. */
export const robustnessMetrics = z.object({
  noiseFlipRate: z.number(),
  noiseMeanAbsChange: z.number(),
  noiseDropAccuracy: z.number(),
  noiseDropRocAuc: z.number(),
  missingFlipRate: z.number(),
  missingMeanAbsChange: z.number(),
  missingDropAccuracy: z.number(),
  missingDropRocAuc: z.number(),
  rows: z.number().int().positive(),
});

/**
 * Robustness of a binary classifier: how many predictions flip and how much accuracy and ROC AUC
 * drop under Gaussian noise (`noise` × each numeric feature's training std) and under injected
 * missing values (`missingRate` of the feature cells), plus the worst slice by `worstBy`.
 * Deterministic for a seed. `gates` are judged here and may name worst_slice_<metric> as well.
 * @example p.step(evaluateRobustness, { model: trained.model, dataset: split.test, seed: 7, sliceBy: ['purpose', 'age'], gates: [{ metric: 'noise_flip_rate', max: 0.05 }] });
 */
export const evaluateRobustness = defineStep({
  name: 'evaluate.robustness',
  version: '1',
  description:
    'Prediction flips and metric drops under noise and missing values, and the worst data slice; optional gates; a JSON report',
  input: z.object({
    model: modelRef,
    dataset: datasetRef,
    seed: z.number().int(),
    noise: z
      .number()
      .finite()
      .nonnegative()
      .default(0.05)
      .describe("noise standard deviation as a fraction of each numeric feature's training std"),
    missingRate: z.number().min(0).max(1).default(0.1).describe('fraction of the feature cells set missing'),
    threshold: z.number().min(0).max(1).default(0.5),
    sliceBy: z
      .array(z.union([z.string().min(1), z.object({ column: z.string().min(1), bins: z.number().int().positive() })]))
      .default([])
      .describe(
        'columns to slice by: each value of a text column, quartiles of a numeric one unless bins are declared',
      ),
    worstBy: z.enum(['accuracy', 'roc_auc']).default('accuracy'),
    minSliceSize: z.number().int().positive().default(10),
    gates: z.array(metricGate).default([]),
  }),
  output: z.object({
    metrics: robustnessMetrics,
    worstSlice: z
      .object({ column: z.string(), slice: z.string(), rows: z.number().int(), metric: z.string(), value: z.number() })
      .nullable(),
    outcomes: z.array(gateOutcome),
    report: reportRef,
  }),
  options: { startToCloseTimeout: '30m', heartbeatTimeout: '1m' },
});

export const regressionMetricsOutput = z.object({
  mae: z.number(),
  rmse: z.number(),
  r2: z.number(),
  rows: z.number().int().positive(),
});

/**
 * Scores a regressor on a dataset: MAE, RMSE, R2; the residual summary (quantiles, bias, the
 * largest misses) goes to a report artifact.
 * @example const evaluation = p.step(evaluateRegressor, { model: trained.model, dataset: split.test });
 */
export const evaluateRegressor = defineStep({
  name: 'evaluate.regressor',
  version: '1',
  description: 'Score a regressor on held-out data; MAE, RMSE, R2 plus a JSON report with a residual summary',
  input: z.object({ model: modelRef, dataset: datasetRef }),
  output: z.object({ metrics: regressionMetricsOutput, report: reportRef }),
  options: { startToCloseTimeout: '30m', heartbeatTimeout: '1m' },
});
