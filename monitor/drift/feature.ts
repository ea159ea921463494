import { DriftInputError } from './errors';
import { type DriftTest, DRIFT_TESTS, TESTS, defaultTest } from './select';
import {
  type Column,
  type FeatureKind,
  type Sample,
  distinctCategories,
  distinctNumeric,
  kindOf,
  prepare,
  sampleSize,
} from './samples';
import { chiSquareTest, jensenShannonTest, ksTest, psiTest, type TestValue, wassersteinTest, zTest } from './stattests';

/** Kiln's own floor, not Evidently's: a window with fewer non-missing values than this is not judged. */
export const DEFAULT_MIN_ROWS = 30;

export interface FeatureDriftOptions {
  /** The test to run instead of Evidently's default choice. */
  test?: DriftTest;
  /** Instead of the test's default threshold (p-value 0.05, distance 0.1). */
  threshold?: number;
  /** The fewest non-missing values in the current window worth judging (default 30). */
  minRows?: number;
}

export interface MeasuredDrift {
  status: 'measured';
  feature: string;
  kind: FeatureKind;
  test: DriftTest;
  /** KS D, chi-square, Z, PSI, normed Wasserstein distance or Jensen–Shannon distance. */
  statistic: number;
  /** For ks, chisquare and z. */
  pValue?: number;
  /** What is compared with the threshold (Evidently's drift_score): the p-value for a test, else the statistic. */
  score: number;
  threshold: number;
  drifted: boolean;
  /** Non-missing values compared on each side. */
  referenceRows: number;
  currentRows: number;
}

/** The current window had too few non-missing values to judge: reported, never counted as drift. */
export interface InsufficientData {
  status: 'insufficientData';
  feature: string;
  kind: FeatureKind;
  currentRows: number;
  minRows: number;
  drifted: false;
}

export type FeatureDrift = MeasuredDrift | InsufficientData;

/**
 * Drift of one feature between a reference sample and a current window, with Evidently's default test and threshold
 * unless the options name others. Numeric features are Float64Arrays, categorical ones arrays of strings; missing
 * values (NaN, ±Infinity, null) are dropped first.
 *
 * @example
 * const r = featureDrift(train.get('age')!, window.get('age')!, { feature: 'age' });
 * if (r.status === 'measured' && r.drifted) alert(`${r.feature}: ${r.test} ${r.score}`);
 */
export function featureDrift(
  reference: Column,
  current: Column,
  options: FeatureDriftOptions & { feature?: string; kind?: FeatureKind } = {},
): FeatureDrift {
  const feature = options.feature ?? 'feature';
  const kind = options.kind ?? kindOf(reference);
  if (kind === undefined) {
    throw new DriftInputError(feature, 'the reference is neither a Float64Array (numeric) nor an array of categories');
  }
  if (options.kind === undefined && kindOf(current) !== kind) {
    throw new DriftInputError(
      feature,
      `the reference is ${kind} but the current window is not: pass both as ${kind === 'numeric' ? 'Float64Array' : 'arrays of strings'}`,
    );
  }
  checkOptions(feature, kind, options);
  const ref = prepare(feature, 'reference', reference, kind);
  const cur = prepare(feature, 'current', current, kind);
  return compareSamples(feature, ref, cur, options);
}

/**
 * Drift of a model's predictions (a probability as a Float64Array, or predicted classes as strings): the same
 * tests as any feature.
 */
export function predictionDrift(
  reference: Column,
  current: Column,
  options: FeatureDriftOptions & { column?: string } = {},
): FeatureDrift {
  return featureDrift(reference, current, { ...options, feature: options.column ?? 'prediction' });
}

/** Runs the chosen test on two prepared samples of one feature. */
export function compareSamples(
  feature: string,
  reference: Sample,
  current: Sample,
  options: FeatureDriftOptions,
): FeatureDrift {
  const kind = reference.kind;
  const minRows = options.minRows ?? DEFAULT_MIN_ROWS;
  const currentRows = sampleSize(current);
  if (currentRows < minRows) return { status: 'insufficientData', feature, kind, currentRows, minRows, drifted: false };
  const test = options.test ?? defaultTest(kind, sampleSize(reference), distinct(reference, current));
  const value = run(test, reference, current);
  const spec = TESTS[test];
  const threshold = options.threshold ?? spec.threshold;
  const score = spec.measure === 'pValue' ? value.pValue! : value.statistic;
  return {
    status: 'measured',
    feature,
    kind,
    test,
    statistic: value.statistic,
    ...(value.pValue === undefined ? {} : { pValue: value.pValue }),
    score,
    threshold,
    drifted: spec.drifted(score, threshold),
    referenceRows: sampleSize(reference),
    currentRows,
  };
}

function distinct(reference: Sample, current: Sample): number {
  if (reference.kind === 'numeric' && current.kind === 'numeric')
    return distinctNumeric(reference.sorted, current.sorted, 6);
  if (reference.kind === 'categorical' && current.kind === 'categorical') return distinctCategories(reference, current);
  throw new Error('distinct: samples of different kinds');
}

function run(test: DriftTest, reference: Sample, current: Sample): TestValue {
  switch (test) {
    case 'ks':
    case 'wasserstein':
      if (reference.kind !== 'numeric' || current.kind !== 'numeric') throw new Error(`${test}: numeric samples only`);
      return test === 'ks' ? ksTest(reference, current) : wassersteinTest(reference, current);
    case 'chisquare':
      return chiSquareTest(reference, current);
    case 'z':
      return zTest(reference, current);
    case 'psi':
      return psiTest(reference, current);
    case 'jensenshannon':
      return jensenShannonTest(reference, current);
  }
}

/** Refuses an unknown test, a test for the other kind of feature, and a threshold or floor that is not a number. */
export function checkOptions(feature: string, kind: FeatureKind, options: FeatureDriftOptions): void {
  const { test, threshold, minRows } = options;
  if (test !== undefined) {
    if (!DRIFT_TESTS.includes(test)) {
      throw new DriftInputError(feature, `unknown test '${String(test)}'; choose one of ${DRIFT_TESTS.join(', ')}`);
    }
    if (!TESTS[test].kinds.includes(kind)) {
      throw new DriftInputError(
        feature,
        `test '${test}' is for ${TESTS[test].kinds.join(' or ')} features, and this one is ${kind}`,
      );
    }
  }
  if (threshold !== undefined && !(typeof threshold === 'number' && Number.isFinite(threshold) && threshold >= 0)) {
    throw new DriftInputError(feature, `threshold ${String(threshold)} is not a finite non-negative number`);
  }
  if (minRows !== undefined && !(Number.isInteger(minRows) && minRows >= 1)) {
    throw new DriftInputError(feature, `minRows ${String(minRows)} is not a positive integer`);
  }
}
