import type { FeatureKind } from './samples';

export type DriftTest = 'ks' | 'chisquare' | 'z' | 'psi' | 'wasserstein' | 'jensenshannon';

interface TestSpec {
  kinds: readonly FeatureKind[];
  threshold: number;
  /** A p-value test drifts below its threshold; a distance at or above it. */
  measure: 'pValue' | 'distance';
  /** Evidently's comparison: KS drifts at p ≤ threshold, chi-square and Z at p < threshold, distances at ≥. */
  drifted: (score: number, threshold: number) => boolean;
}

/** Evidently's stattests as registered: which feature kinds each accepts and its default threshold. */
export const TESTS: Readonly<Record<DriftTest, TestSpec>> = {
  ks: { kinds: ['numeric'], threshold: 0.05, measure: 'pValue', drifted: (p, t) => p <= t },
  // Evidently registers chi-square and Z for categorical features only, yet picks them by default for numeric
  // features with few values; Kiln accepts them for both.
  chisquare: { kinds: ['numeric', 'categorical'], threshold: 0.05, measure: 'pValue', drifted: (p, t) => p < t },
  z: { kinds: ['numeric', 'categorical'], threshold: 0.05, measure: 'pValue', drifted: (p, t) => p < t },
  psi: { kinds: ['numeric', 'categorical'], threshold: 0.1, measure: 'distance', drifted: (s, t) => s >= t },
  wasserstein: { kinds: ['numeric'], threshold: 0.1, measure: 'distance', drifted: (s, t) => s >= t },
  jensenshannon: { kinds: ['numeric', 'categorical'], threshold: 0.1, measure: 'distance', drifted: (s, t) => s >= t },
};

export const DRIFT_TESTS = Object.keys(TESTS) as DriftTest[];

/**
 * Evidently's default test (`_get_default_stattest`), from the reference size and the number of distinct values in
 * both samples together, both counted after missing values are dropped:
 *
 * | reference rows | numeric, ≤ 2 values | numeric, 3–5 | numeric, > 5 | categorical, ≤ 2 | categorical, > 2 |
 * |---|---|---|---|---|---|
 * | ≤ 1,000 | z | chisquare | ks | z | chisquare |
 * | > 1,000 | jensenshannon | jensenshannon | wasserstein | jensenshannon | jensenshannon |
 */
export function defaultTest(kind: FeatureKind, referenceSize: number, distinct: number): DriftTest {
  if (referenceSize <= 1000) {
    if (distinct <= 2) return 'z';
    if (kind === 'categorical' || distinct <= 5) return 'chisquare';
    return 'ks';
  }
  if (kind === 'categorical' || distinct <= 5) return 'jensenshannon';
  return 'wasserstein';
}
