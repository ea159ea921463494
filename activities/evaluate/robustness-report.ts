import { isAbsent } from '../common/dataset/cells';
import { MetricInputError, checkLengths, type Numbers } from '../common/metrics/input-check';
import { meanAbsoluteError, r2Score, rootMeanSquaredError } from '../common/metrics/regression';
import { accuracy, rocAuc } from '../common/metrics/classification';

/** A raw cell as the model's fitted transform takes it; null (or NaN) is a missing value. */
export type Cell = number | string | boolean | null | undefined;

/**
 * A row as the model takes it: raw values keyed by column (the transform encodes categoricals and
 * imputes), or a numeric feature vector whose columns are named by index ('0', '1', ...).
 */
export type Row = Readonly<Record<string, Cell>> | ReadonlyArray<number>;

/** Scores the rows: P(class 1) for a binary model, the prediction for a regression one. */
export type Predict<R extends Row> = (rows: R[]) => Promise<Numbers> | Numbers;

export interface MetricSpec {
  fn: (yTrue: readonly number[], yScore: readonly number[]) => number;
  higherIsBetter: boolean;
}

/** Slices by each distinct value of a column, or by quantile bins of a numeric one. */
export type SliceSpec =
  | { column: string; kind: 'categorical'; values?: ReadonlyArray<Cell> }
  | { column: string; kind: 'quantile'; bins: number; values?: ReadonlyArray<Cell> };

export interface RobustnessInput<R extends Row> {
  rows: readonly R[];
  labels: Numbers;
  predict: Predict<R>;
  /** Numeric columns with each one's (training-set) standard deviation; noise perturbs only these. */
  std: Readonly<Record<string, number>>;
  /** Categorical columns, which missing-value injection reaches as well. */
  categorical?: readonly string[];
  /** A seeded source of uniform numbers in [0, 1), e.g. mulberry32(seed); the only randomness used. */
  random: () => number;
  task?: 'binary' | 'regression';
  /** Score at or above which a binary prediction is class 1; 0.5 unless declared. */
  threshold?: number;
  /** Gaussian noise of `scale` × each column's std; scale 0.05 unless declared. */
  noise?: { scale?: number };
  /**
   * Sets `fraction` (0.1 unless declared) of the cells of `columns` (numeric and categorical ones
   * unless declared) to `value`: null for records, NaN for vectors unless declared.
   */
  missing?: { fraction?: number; columns?: readonly string[]; value?: null | number };
  slices?: readonly SliceSpec[];
  /** Metrics compared clean vs perturbed and per slice; accuracy and roc_auc (binary) or mae, rmse and r2 (regression). */
  metrics?: Readonly<Record<string, MetricSpec>>;
  /** The metric that picks the worst slice; the first metric unless declared. */
  worstBy?: string;
  /** Slices with fewer rows are reported but cannot be the worst; 10 unless declared. */
  minSliceSize?: number;
}

export interface PerturbationResult {
  /** Share of rows whose predicted class changed; null for regression. */
  flipRate: number | null;
  /** Mean absolute change of the score. */
  meanAbsChange: number;
  metrics: Record<string, number>;
  /** How much worse each metric got (positive is worse, whichever way the metric points). */
  drop: Record<string, number>;
}

export interface SliceResult {
  column: string;
  slice: string;
  /** A quantile bin's bounds: lower inclusive, upper exclusive except for the last bin. */
  range?: [number, number];
  count: number;
  metrics: Record<string, number>;
  /** Why a metric is NaN on this slice (e.g. ROC AUC on a slice with one class). */
  errors?: Record<string, string>;
}

export interface SliceReport {
  column: string;
  kind: 'categorical' | 'quantile';
  slices: SliceResult[];
  /** The slice worst by `worstBy` among those with at least `minSliceSize` rows and a defined value. */
  worst: SliceResult | null;
}

export interface RobustnessReport {
  rows: number;
  task: 'binary' | 'regression';
  threshold: number | null;
  clean: Record<string, number>;
  noise: PerturbationResult & { scale: number; columns: string[] };
  missing: PerturbationResult & { fraction: number; cells: number; columns: string[] };
  worstBy: string;
  slices: SliceReport[];
  worstSlice: SliceResult | null;
}

const higherIsBetter = (fn: MetricSpec['fn']): MetricSpec => ({ fn, higherIsBetter: true });
const lowerIsBetter = (fn: MetricSpec['fn']): MetricSpec => ({ fn, higherIsBetter: false });

/** The metrics robustness uses unless told otherwise. */
export function defaultRobustnessMetrics(task: 'binary' | 'regression', threshold = 0.5): Record<string, MetricSpec> {
  if (task === 'regression') {
    return {
      mae: lowerIsBetter(meanAbsoluteError),
      rmse: lowerIsBetter(rootMeanSquaredError),
      r2: higherIsBetter(r2Score),
    };
  }
  return {
    accuracy: higherIsBetter((yTrue, yScore) => accuracy(yTrue, yScore, threshold)),
    roc_auc: higherIsBetter(rocAuc),
  };
}

/** A standard normal draw (Box–Muller) from two uniforms of the seeded source. */
export function gaussian(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

const copyRow = <R extends Row>(row: R): Record<string, Cell> =>
  (Array.isArray(row) ? [...row] : { ...row }) as Record<string, Cell>;

function checkColumns(rows: readonly Row[], columns: readonly string[], what: string): void {
  const first = rows[0]!;
  for (const column of columns) {
    const present = Array.isArray(first)
      ? /^\d+$/.test(column) && Number(column) < first.length
      : Object.hasOwn(first, column);
    if (!present) {
      const known = Array.isArray(first) ? `indices 0..${first.length - 1}` : Object.keys(first).join(', ');
      throw new MetricInputError('robustness', `${what} column '${column}' is not in the rows, which have ${known}`);
    }
  }
}

async function score<R extends Row>(predict: Predict<R>, rows: R[], scenario: string): Promise<number[]> {
  const scores = Array.from(await predict(rows));
  if (scores.length !== rows.length) {
    throw new MetricInputError(
      'robustness',
      `predict returned ${scores.length} scores for ${rows.length} rows ${scenario}`,
    );
  }
  const bad = scores.findIndex((s) => !Number.isFinite(s));
  if (bad >= 0) {
    const hint = scenario.includes('missing') ? ': the model (its transform) must impute missing values' : '';
    throw new MetricInputError(
      'robustness',
      `predict returned ${String(scores[bad])} for row ${bad} ${scenario}${hint}`,
    );
  }
  return scores;
}

function evaluate(
  metrics: Readonly<Record<string, MetricSpec>>,
  labels: number[],
  scores: number[],
): Record<string, number> {
  return Object.fromEntries(Object.entries(metrics).map(([name, spec]) => [name, spec.fn(labels, scores)]));
}

function compare(
  metrics: Readonly<Record<string, MetricSpec>>,
  labels: number[],
  clean: { scores: number[]; values: Record<string, number> },
  perturbed: number[],
  threshold: number | null,
): PerturbationResult {
  let flips = 0;
  let change = 0;
  for (let i = 0; i < perturbed.length; i++) {
    if (threshold !== null && clean.scores[i]! >= threshold !== perturbed[i]! >= threshold) flips++;
    change += Math.abs(perturbed[i]! - clean.scores[i]!);
  }
  const values = evaluate(metrics, labels, perturbed);
  const drop = Object.fromEntries(
    Object.entries(metrics).map(([name, spec]) => [
      name,
      spec.higherIsBetter ? clean.values[name]! - values[name]! : values[name]! - clean.values[name]!,
    ]),
  );
  return {
    flipRate: threshold === null ? null : flips / perturbed.length,
    meanAbsChange: change / perturbed.length,
    metrics: values,
    drop,
  };
}

// k distinct integers from [0, n), by Floyd's algorithm: O(k) memory however many cells there are.
function sampleDistinct(n: number, k: number, random: () => number): number[] {
  const chosen = new Set<number>();
  for (let j = n - k; j < n; j++) {
    const t = Math.floor(random() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen].sort((a, b) => a - b);
}

const MISSING_SLICE = '(missing)';

// Quantile edges with numpy's default linear interpolation.
function quantileEdges(sorted: number[], bins: number): number[] {
  const edges: number[] = [];
  for (let i = 0; i <= bins; i++) {
    const position = (sorted.length - 1) * (i / bins);
    const lo = Math.floor(position);
    const hi = Math.min(lo + 1, sorted.length - 1);
    edges.push(sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (position - lo));
  }
  return [...new Set(edges)];
}

// Each row's slice name, and the slices in report order: sorted values or ascending bins, missing last.
interface Slicing {
  names: string[];
  order: string[];
  ranges: Map<string, [number, number]>;
}

const edgeLabel = (x: number) => String(Number(x.toPrecision(6)));

function sliceNames(spec: SliceSpec, values: ReadonlyArray<Cell>): Slicing {
  const ranges = new Map<string, [number, number]>();
  const withMissingLast = (names: string[], order: string[]) => ({
    names,
    ranges,
    order: names.includes(MISSING_SLICE) ? [...order, MISSING_SLICE] : order,
  });
  if (spec.kind === 'categorical') {
    const names = values.map((v) => (isAbsent(v) ? MISSING_SLICE : String(v)));
    const present = [...new Set(names)].filter((n) => n !== MISSING_SLICE).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return withMissingLast(names, present);
  }
  if (!Number.isInteger(spec.bins) || spec.bins < 1) {
    throw new MetricInputError(
      'robustness',
      `slice on '${spec.column}' declares ${spec.bins} bins; declare a positive whole number`,
    );
  }
  const numbers = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const strays = values.find((v) => !isAbsent(v) && (typeof v !== 'number' || !Number.isFinite(v)));
  if (strays !== undefined) {
    throw new MetricInputError(
      'robustness',
      `quantile slice on '${spec.column}' met the value ${JSON.stringify(strays)}; slice a non-numeric column with kind 'categorical'`,
    );
  }
  if (numbers.length === 0)
    return withMissingLast(
      values.map(() => MISSING_SLICE),
      [],
    );
  const edges = quantileEdges(
    [...numbers].sort((a, b) => a - b),
    spec.bins,
  );
  const last = Math.max(edges.length - 2, 0);
  const labels = edges.slice(0, last + 1).map((lo, b) => {
    const hi = edges[b + 1] ?? lo;
    const label = `[${edgeLabel(lo)}, ${edgeLabel(hi)}${b === last ? ']' : ')'}`;
    ranges.set(label, [lo, hi]);
    return label;
  });
  const names = values.map((v) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return MISSING_SLICE;
    let b = 0;
    while (b < last && edges[b + 1]! <= v) b++;
    return labels[b]!;
  });
  const used = new Set(names);
  return withMissingLast(
    names,
    labels.filter((l) => used.has(l)),
  );
}

function sliceReport(
  spec: SliceSpec,
  rows: readonly Row[],
  labels: number[],
  scores: number[],
  metrics: Readonly<Record<string, MetricSpec>>,
  worstBy: string,
  minSize: number,
): SliceReport {
  let values: ReadonlyArray<Cell>;
  if (spec.values) {
    checkLengths('robustness', rows, spec.values, ['rows', `slice '${spec.column}' values`]);
    values = spec.values;
  } else {
    checkColumns(rows, [spec.column], 'slice');
    values = rows.map((r) => (r as Record<string, Cell>)[spec.column]);
  }
  const { names, order, ranges } = sliceNames(spec, values);
  const members = new Map<string, number[]>();
  names.forEach((name, i) => {
    const list = members.get(name);
    if (list) list.push(i);
    else members.set(name, [i]);
  });
  const slices = order.map((slice): SliceResult => {
    const index = members.get(slice)!;
    const y = index.map((i) => labels[i]!);
    const s = index.map((i) => scores[i]!);
    const range = ranges.get(slice);
    const result: SliceResult = {
      column: spec.column,
      slice,
      ...(range && { range }),
      count: index.length,
      metrics: {},
    };
    for (const [name, metric] of Object.entries(metrics)) {
      try {
        result.metrics[name] = metric.fn(y, s);
      } catch (error) {
        // A metric undefined on one slice (one class, say) is recorded, not fatal to the report.
        result.metrics[name] = Number.NaN;
        (result.errors ??= {})[name] = error instanceof Error ? error.message : String(error);
      }
    }
    return result;
  });
  const direction = metrics[worstBy]!.higherIsBetter ? 1 : -1;
  let worst: SliceResult | null = null;
  for (const s of slices) {
    const v = s.metrics[worstBy]!;
    if (s.count < minSize || Number.isNaN(v)) continue;
    if (worst === null || direction * v < direction * worst.metrics[worstBy]!) worst = s;
  }
  return { column: spec.column, kind: spec.kind, slices, worst };
}

/**
 * Scores clean rows, rows with Gaussian noise on numeric columns and rows with injected missing
 * values, and slices the clean scores; deterministic for a given `random` sequence.
 */
export async function robustness<R extends Row>(input: RobustnessInput<R>): Promise<RobustnessReport> {
  const { rows, predict, std, random } = input;
  const labels = Array.from(input.labels);
  const task = input.task ?? 'binary';
  const threshold = task === 'binary' ? (input.threshold ?? 0.5) : null;
  const metrics = input.metrics ?? defaultRobustnessMetrics(task, threshold ?? undefined);
  const metricNames = Object.keys(metrics);
  if (metricNames.length === 0)
    throw new MetricInputError(
      'robustness',
      'no metrics declared; declare at least one or leave metrics out for the defaults',
    );
  const worstBy = input.worstBy ?? metricNames[0]!;
  if (!metrics[worstBy])
    throw new MetricInputError(
      'robustness',
      `worstBy '${worstBy}' is not one of the metrics ${metricNames.join(', ')}`,
    );
  checkLengths('robustness', rows, labels, ['rows', 'labels']);

  const numeric = Object.keys(std).sort();
  checkColumns(rows, numeric, 'numeric');
  for (const column of numeric) {
    if (!(std[column]! >= 0) || !Number.isFinite(std[column])) {
      throw new MetricInputError(
        'robustness',
        `std of column '${column}' is ${std[column]}; give a finite standard deviation >= 0`,
      );
    }
  }
  const scale = input.noise?.scale ?? 0.05;
  if (!(scale >= 0) || !Number.isFinite(scale))
    throw new MetricInputError('robustness', `noise scale is ${scale}; give a finite scale >= 0, such as 0.05`);
  const missingColumns = [...new Set(input.missing?.columns ?? [...numeric, ...(input.categorical ?? [])])].sort();
  checkColumns(rows, missingColumns, 'missing-value');
  const fraction = input.missing?.fraction ?? 0.1;
  if (!(fraction >= 0 && fraction <= 1))
    throw new MetricInputError('robustness', `missing fraction is ${fraction}; give a fraction in [0, 1], such as 0.1`);
  const vectors = Array.isArray(rows[0]);
  const missingValue = input.missing && 'value' in input.missing ? input.missing.value! : vectors ? Number.NaN : null;

  const cleanScores = await score(predict, [...rows], 'on the clean rows');
  const clean = { scores: cleanScores, values: evaluate(metrics, labels, cleanScores) };

  // One draw per numeric cell, present or not, so the noise a cell gets does not depend on other cells.
  const noisy = rows.map((row) => {
    const copy = copyRow(row);
    for (const column of numeric) {
      const z = gaussian(random);
      const v = copy[column];
      if (typeof v === 'number' && Number.isFinite(v)) copy[column] = v + z * scale * std[column]!;
    }
    return copy as unknown as R;
  });
  const noiseScores = await score(predict, noisy, 'under Gaussian noise');

  const cellCount = Math.round(fraction * rows.length * missingColumns.length);
  const holed = rows.map((row) => copyRow(row));
  for (const cell of sampleDistinct(rows.length * missingColumns.length, cellCount, random)) {
    holed[Math.floor(cell / missingColumns.length)]![missingColumns[cell % missingColumns.length]!] = missingValue;
  }
  const missingScores = await score(predict, holed as unknown as R[], 'under injected missing values');

  const minSize = input.minSliceSize ?? 10;
  const slices = (input.slices ?? []).map((spec) =>
    sliceReport(spec, rows, labels, cleanScores, metrics, worstBy, minSize),
  );
  const direction = metrics[worstBy]!.higherIsBetter ? 1 : -1;
  let worstSlice: SliceResult | null = null;
  for (const { worst } of slices) {
    if (
      worst &&
      (worstSlice === null || direction * worst.metrics[worstBy]! < direction * worstSlice.metrics[worstBy]!)
    )
      worstSlice = worst;
  }

  return {
    rows: rows.length,
    task,
    threshold,
    clean: clean.values,
    noise: { scale, columns: numeric, ...compare(metrics, labels, clean, noiseScores, threshold) },
    missing: {
      fraction,
      cells: cellCount,
      columns: missingColumns,
      ...compare(metrics, labels, clean, missingScores, threshold),
    },
    worstBy,
    slices,
    worstSlice,
  };
}

/** The report's scalar measures under the names gates use. */
export function robustnessMetricValues(report: RobustnessReport): Record<string, number> {
  const values: Record<string, number> = {
    noise_mean_abs_change: report.noise.meanAbsChange,
    missing_mean_abs_change: report.missing.meanAbsChange,
  };
  if (report.noise.flipRate !== null) values.noise_flip_rate = report.noise.flipRate;
  if (report.missing.flipRate !== null) values.missing_flip_rate = report.missing.flipRate;
  for (const [name, drop] of Object.entries(report.noise.drop)) values[`noise_drop_${name}`] = drop;
  for (const [name, drop] of Object.entries(report.missing.drop)) values[`missing_drop_${name}`] = drop;
  if (report.worstSlice) values[`worst_slice_${report.worstBy}`] = report.worstSlice.metrics[report.worstBy]!;
  return values;
}
