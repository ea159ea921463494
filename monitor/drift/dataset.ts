import { DriftInputError } from './errors';
import { checkOptions, compareSamples, type FeatureDrift, type FeatureDriftOptions } from './feature';
import { type Column, type FeatureKind, prepare } from './samples';

/** The features to compare and their kinds. */
export type DriftSchema = Readonly<Record<string, FeatureKind>>;
/** Columns by feature name; columns the schema does not name are ignored. */
export type Columns = Readonly<Record<string, Column>>;

/** Evidently's default: the dataset drifts when at least half of its judged features drift. */
export const DEFAULT_DRIFT_SHARE = 0.5;

export interface DatasetDriftOptions extends FeatureDriftOptions {
  /** The share of judged features that must drift for the dataset to drift (default 0.5). */
  driftShare?: number;
  /** Per-feature overrides of the test, threshold and floor; they win over the dataset-wide ones. */
  features?: Readonly<Record<string, FeatureDriftOptions>>;
}

export interface DatasetDrift {
  /** 'insufficientData' when no feature had enough rows in the window to be judged. */
  status: 'measured' | 'insufficientData';
  features: Record<string, FeatureDrift>;
  /** Features judged (the others had too few rows). */
  measured: number;
  driftedFeatures: number;
  /** driftedFeatures / measured (0 when nothing was judged). */
  share: number;
  driftShare: number;
  drifted: boolean;
}

/**
 * Per-feature drift of every feature in the schema, and whether the dataset drifts: at least `driftShare` of the
 * judged features drifting. Throws a DriftInputError naming the feature for a column missing on either side, an empty
 * or all-missing column, or values of the wrong kind.
 *
 * @example
 * const report = datasetDrift(trainColumns, windowColumns, { age: 'numeric', purpose: 'categorical' }, {
 *   features: { age: { test: 'psi', threshold: 0.2 } },
 * });
 */
export function datasetDrift(
  reference: Columns,
  current: Columns,
  schema: DriftSchema,
  options: DatasetDriftOptions = {},
): DatasetDrift {
  const names = Object.keys(schema);
  if (names.length === 0) throw new DriftInputError('(schema)', 'the schema names no features to compare');
  const driftShare = options.driftShare ?? DEFAULT_DRIFT_SHARE;
  if (!(typeof driftShare === 'number' && driftShare > 0 && driftShare <= 1)) {
    throw new DriftInputError('(options)', `driftShare ${String(driftShare)} is not in (0, 1]`);
  }
  for (const name of Object.keys(options.features ?? {})) {
    if (!(name in schema)) {
      throw new DriftInputError(name, `has options but is not in the schema (features: ${names.join(', ')})`);
    }
  }
  const { features: perFeature, driftShare: _share, ...shared } = options;
  const settings = new Map<string, FeatureDriftOptions>();
  for (const name of names) {
    const kind = schema[name]!;
    if (kind !== 'numeric' && kind !== 'categorical') {
      throw new DriftInputError(name, `has kind '${String(kind)}' in the schema; use 'numeric' or 'categorical'`);
    }
    for (const [side, columns] of [
      ['reference', reference],
      ['current window', current],
    ] as const) {
      if (!Object.hasOwn(columns, name)) {
        const present = Object.keys(columns);
        throw new DriftInputError(
          name,
          `is missing from the ${side} (its columns: ${present.length ? present.join(', ') : 'none'})`,
        );
      }
    }
    const featureOptions = { ...shared, ...perFeature?.[name] };
    checkOptions(name, kind, featureOptions);
    settings.set(name, featureOptions);
  }
  const features: Record<string, FeatureDrift> = {};
  for (const name of names) {
    const kind = schema[name]!;
    const ref = prepare(name, 'reference', reference[name], kind);
    const cur = prepare(name, 'current', current[name], kind);
    features[name] = compareSamples(name, ref, cur, settings.get(name)!);
  }
  const results = Object.values(features);
  const measured = results.filter((r) => r.status === 'measured').length;
  const driftedFeatures = results.filter((r) => r.drifted).length;
  const share = measured === 0 ? 0 : driftedFeatures / measured;
  return {
    status: measured === 0 ? 'insufficientData' : 'measured',
    features,
    measured,
    driftedFeatures,
    share,
    driftShare,
    drifted: measured > 0 && share >= driftShare,
  };
}
