import { MetricInputError, checkBinary, checkLengths, type Numbers } from '../common/metrics/input-check';

// Definitions follow fairlearn (fairlearn.metrics, method='between_groups', agg='worst_case'):
// - selection rate: the fraction of rows predicted 1;
// - demographic parity difference / ratio: max − min / min ÷ max of the selection rates;
// - equalized odds difference: the larger of the TPR and FPR differences (max − min) across groups.
// fairlearn takes TPR and FPR from scikit-learn's confusion_matrix(normalize='true'), which turns
// 0/0 into 0: a group with no positive labels has TPR 0 and one with no negatives has FPR 0, and
// those zeros take part in the max − min. Kiln keeps that so its numbers equal fairlearn's, and
// lists such groups in `undefinedRates` so a report can show why a difference may be large.
// A ratio whose largest rate is 0 is 0/0, NaN, as in fairlearn.

export interface GroupRates {
  group: string;
  count: number;
  /** Rows whose label is 1. */
  positives: number;
  /** Rows whose label is 0. */
  negatives: number;
  /** Rows predicted 1. */
  selected: number;
  truePositives: number;
  falsePositives: number;
  selectionRate: number;
  /** TP / positives; 0 when the group has no positive label, as in fairlearn. */
  truePositiveRate: number;
  /** FP / negatives; 0 when the group has no negative label, as in fairlearn. */
  falsePositiveRate: number;
}

export interface DisparateImpact {
  /** The group every selection rate is divided by: the declared privileged group, else the most selected. */
  reference: string;
  /** Each group's selection rate divided by the reference group's. */
  ratios: Record<string, number>;
  /** The smallest ratio and its group; NaN when the reference group is never selected. */
  minRatio: number;
  worstGroup: string;
  threshold: number;
  /** The four-fifths rule: every group is selected at least `threshold` (0.8) times as often as the reference; false when undefined. */
  passes: boolean;
}

export interface FairnessReport {
  /** Groups in sorted order, as fairlearn's MetricFrame.by_group lists them. */
  groups: GroupRates[];
  demographicParityDifference: number;
  demographicParityRatio: number;
  truePositiveRateDifference: number;
  falsePositiveRateDifference: number;
  equalizedOddsDifference: number;
  disparateImpact: DisparateImpact;
  /** Groups whose TPR (no positive label) or FPR (no negative label) is 0/0 and reported as 0. */
  undefinedRates: Array<{ group: string; rate: 'truePositiveRate' | 'falsePositiveRate' }>;
}

export interface FairnessOptions {
  /** The privileged group that disparate impact compares against; the most selected group if omitted. */
  reference?: string;
  /** The disparate-impact bar; 0.8 (the four-fifths rule) if omitted. */
  threshold?: number;
}

function check(metric: string, yTrue: Numbers, yPred: Numbers, sensitive: ArrayLike<string>): void {
  checkLengths(metric, yTrue, yPred);
  checkLengths(metric, yTrue, sensitive, ['yTrue', 'sensitive']);
  checkBinary(metric, yTrue);
  checkBinary(metric, yPred, 'yPred');
  for (let i = 0; i < sensitive.length; i++) {
    if (typeof sensitive[i] !== 'string') {
      throw new MetricInputError(
        metric,
        `sensitive[${i}] is ${String(sensitive[i])}; give every row a group name (map missing values to a group such as 'unknown')`,
      );
    }
  }
}

/** Counts and rates per group of the sensitive attribute. */
export function groupRates(yTrue: Numbers, yPred: Numbers, sensitive: ArrayLike<string>): GroupRates[] {
  check('group_rates', yTrue, yPred, sensitive);
  const byGroup = new Map<string, { count: number; positives: number; selected: number; tp: number; fp: number }>();
  for (let i = 0; i < yTrue.length; i++) {
    const name = sensitive[i]!;
    let g = byGroup.get(name);
    if (!g) byGroup.set(name, (g = { count: 0, positives: 0, selected: 0, tp: 0, fp: 0 }));
    g.count++;
    g.positives += yTrue[i]!;
    g.selected += yPred[i]!;
    if (yPred[i] === 1) {
      if (yTrue[i] === 1) g.tp++;
      else g.fp++;
    }
  }
  return [...byGroup.keys()].sort(compareNames).map((group) => {
    const g = byGroup.get(group)!;
    const negatives = g.count - g.positives;
    return {
      group,
      count: g.count,
      positives: g.positives,
      negatives,
      selected: g.selected,
      truePositives: g.tp,
      falsePositives: g.fp,
      selectionRate: g.selected / g.count,
      truePositiveRate: g.positives > 0 ? g.tp / g.positives : 0,
      falsePositiveRate: negatives > 0 ? g.fp / negatives : 0,
    };
  });
}

// Code-point order, as pandas sorts strings; localeCompare would depend on the machine's locale.
const compareNames = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const spread = (values: number[]) => Math.max(...values) - Math.min(...values);
const ratio = (values: number[]) => Math.min(...values) / Math.max(...values);

/** Selection rate (fraction predicted 1) of each group. */
export function selectionRates(yTrue: Numbers, yPred: Numbers, sensitive: ArrayLike<string>): Record<string, number> {
  return Object.fromEntries(groupRates(yTrue, yPred, sensitive).map((g) => [g.group, g.selectionRate]));
}

/** Largest minus smallest selection rate across groups; 0 is parity. */
export function demographicParityDifference(yTrue: Numbers, yPred: Numbers, sensitive: ArrayLike<string>): number {
  return spread(groupRates(yTrue, yPred, sensitive).map((g) => g.selectionRate));
}

/** Smallest over largest selection rate across groups; 1 is parity, NaN when no group is ever selected. */
export function demographicParityRatio(yTrue: Numbers, yPred: Numbers, sensitive: ArrayLike<string>): number {
  return ratio(groupRates(yTrue, yPred, sensitive).map((g) => g.selectionRate));
}

/** The larger of the across-group TPR and FPR differences; 0 is equalized odds. */
export function equalizedOddsDifference(yTrue: Numbers, yPred: Numbers, sensitive: ArrayLike<string>): number {
  const groups = groupRates(yTrue, yPred, sensitive);
  return Math.max(spread(groups.map((g) => g.truePositiveRate)), spread(groups.map((g) => g.falsePositiveRate)));
}

function disparateImpact(groups: GroupRates[], options: FairnessOptions): DisparateImpact {
  const threshold = options.threshold ?? 0.8;
  let reference = groups[0]!;
  if (options.reference !== undefined) {
    const declared = groups.find((g) => g.group === options.reference);
    if (!declared) {
      throw new MetricInputError(
        'disparate_impact',
        `reference group '${options.reference}' does not occur in the sensitive column; groups are ${groups.map((g) => `'${g.group}'`).join(', ')}`,
      );
    }
    reference = declared;
  } else {
    for (const g of groups) if (g.selectionRate > reference.selectionRate) reference = g;
  }
  const ratios: Record<string, number> = {};
  let worstGroup = reference.group;
  let minRatio = Number.POSITIVE_INFINITY;
  for (const g of groups) {
    const r = g.selectionRate / reference.selectionRate;
    ratios[g.group] = r;
    if (r < minRatio) {
      minRatio = r;
      worstGroup = g.group;
    }
  }
  // A reference group that is never selected leaves every ratio 0/0 or x/0: undefined, so not passing.
  if (reference.selectionRate === 0) minRatio = Number.NaN;
  return { reference: reference.group, ratios, minRatio, worstGroup, threshold, passes: minRatio >= threshold };
}

/** Every fairness measure for one sensitive attribute, from 0/1 labels and 0/1 predictions. */
export function fairnessReport(
  yTrue: Numbers,
  yPred: Numbers,
  sensitive: ArrayLike<string>,
  options: FairnessOptions = {},
): FairnessReport {
  const groups = groupRates(yTrue, yPred, sensitive);
  const tprDifference = spread(groups.map((g) => g.truePositiveRate));
  const fprDifference = spread(groups.map((g) => g.falsePositiveRate));
  const undefinedRates: FairnessReport['undefinedRates'] = [];
  for (const g of groups) {
    if (g.positives === 0) undefinedRates.push({ group: g.group, rate: 'truePositiveRate' });
    if (g.negatives === 0) undefinedRates.push({ group: g.group, rate: 'falsePositiveRate' });
  }
  return {
    groups,
    demographicParityDifference: spread(groups.map((g) => g.selectionRate)),
    demographicParityRatio: ratio(groups.map((g) => g.selectionRate)),
    truePositiveRateDifference: tprDifference,
    falsePositiveRateDifference: fprDifference,
    equalizedOddsDifference: Math.max(tprDifference, fprDifference),
    disparateImpact: disparateImpact(groups, options),
    undefinedRates,
  };
}

/** The report's scalar measures under the names gates use, prefixed (e.g. `sex.`) when given. */
export function fairnessMetricValues(report: FairnessReport, prefix = ''): Record<string, number> {
  return {
    [`${prefix}demographic_parity_difference`]: report.demographicParityDifference,
    [`${prefix}demographic_parity_ratio`]: report.demographicParityRatio,
    [`${prefix}equalized_odds_difference`]: report.equalizedOddsDifference,
    [`${prefix}true_positive_rate_difference`]: report.truePositiveRateDifference,
    [`${prefix}false_positive_rate_difference`]: report.falsePositiveRateDifference,
    [`${prefix}disparate_impact_ratio`]: report.disparateImpact.minRatio,
  };
}
