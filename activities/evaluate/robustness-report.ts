import { MetricInputError, checkLengths, type Numbers } from '../common/metrics/input-check';
import { meanAbsoluteError, r2Score, rootMeanSquaredError } from '../common/metrics/regression';
import { accuracy, rocAuc } from '../common/metrics/classification';
import { sliceReport } from './robustness-slices';

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

/** What a report is computed with, whichever form (rows or columns) the data takes. */
export interface RobustnessOptions {
  labels: Numbers;
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

export interface RobustnessInput<R extends Row> extends RobustnessOptions {
  rows: readonly R[];
  predict: Predict<R>;
}

/**
 * Held-out data as a report reads and perturbs it, in one form: `D` is what the model scores.
 * Perturbed copies leave the data as it was.
 */
export interface RobustnessTable<D> {
  rows: number;
  /** Whether rows are feature vectors, whose missing cell is NaN rather than null. */
  vectors: boolean;
  /** Throws a MetricInputError naming `what` unless every column is in the data. */
  check(columns: readonly string[], what: string): void;
  clean(): D;
  /**
   * Adds z × scale × std to each finite number of `columns`, drawing one z per cell, present or
   * not, row by row and within a row in the order of `columns`.
   */
  noisy(columns: readonly string[], draw: () => number, scale: number, std: Readonly<Record<string, number>>): D;
  /** Sets the cells numbered row × columns.length + column to `value`. */
  holed(cells: readonly number[], columns: readonly string[], value: null | number): D;
  /** A column's cells in row order. */
  column(name: string): ReadonlyArray<Cell>;
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

async function score<D>(
  predict: (data: D) => Promise<Numbers> | Numbers,
  data: D,
  rows: number,
  scenario: string,
): Promise<number[]> {
  const scores = Array.from(await predict(data));
  if (scores.length !== rows) {
    throw new MetricInputError('robustness', `predict returned ${scores.length} scores for ${rows} rows ${scenario}`);
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

// k distinct integers from [0, n) in ascending order, by Floyd's algorithm. A bit per candidate
// (n / 8 bytes) marks the chosen: read in order, it needs no sort, and no set of k boxed numbers.
function sampleDistinct(n: number, k: number, random: () => number): number[] {
  const chosen = new Uint32Array(Math.ceil(n / 32));
  const has = (i: number) => (chosen[i >>> 5]! & (1 << (i & 31))) !== 0;
  for (let j = n - k; j < n; j++) {
    const t = Math.floor(random() * (j + 1));
    const pick = has(t) ? j : t;
    chosen[pick >>> 5]! |= 1 << (pick & 31);
  }
  const sorted: number[] = [];
  for (let i = 0; i < n; i++) if (has(i)) sorted.push(i);
  return sorted;
}

function rowTable<R extends Row>(rows: readonly R[]): RobustnessTable<R[]> {
  return {
    rows: rows.length,
    vectors: Array.isArray(rows[0]),
    check: (columns, what) => checkColumns(rows, columns, what),
    clean: () => [...rows],
    noisy: (columns, draw, scale, std) =>
      rows.map((row) => {
        const copy = copyRow(row);
        for (const column of columns) {
          const z = draw();
          const v = copy[column];
          if (typeof v === 'number' && Number.isFinite(v)) copy[column] = v + z * scale * std[column]!;
        }
        return copy as unknown as R;
      }),
    holed: (cells, columns, value) => {
      const holed = rows.map((row) => copyRow(row));
      for (const cell of cells) holed[Math.floor(cell / columns.length)]![columns[cell % columns.length]!] = value;
      return holed as unknown as R[];
    },
    column: (name) => rows.map((r) => (r as Record<string, Cell>)[name]),
  };
}

/**
 * Scores clean rows, rows with Gaussian noise on numeric columns and rows with injected missing
 * values, and slices the clean scores; deterministic for a given `random` sequence.
 */
export async function robustness<R extends Row>(input: RobustnessInput<R>): Promise<RobustnessReport> {
  return robustnessOf(rowTable(input.rows), input.predict, input);
}

/** As `robustness`, over data in any form `table` reads; the same report for the same cells. */
export async function robustnessOf<D>(
  table: RobustnessTable<D>,
  predict: (data: D) => Promise<Numbers> | Numbers,
  input: RobustnessOptions,
): Promise<RobustnessReport> {
  const { std, random } = input;
  const rows = table.rows;
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
  checkLengths('robustness', { length: rows }, labels, ['rows', 'labels']);

  const numeric = Object.keys(std).sort();
  table.check(numeric, 'numeric');
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
  table.check(missingColumns, 'missing-value');
  const fraction = input.missing?.fraction ?? 0.1;
  if (!(fraction >= 0 && fraction <= 1))
    throw new MetricInputError('robustness', `missing fraction is ${fraction}; give a fraction in [0, 1], such as 0.1`);
  const missingValue =
    input.missing && 'value' in input.missing ? input.missing.value! : table.vectors ? Number.NaN : null;

  const cleanScores = await score(predict, table.clean(), rows, 'on the clean rows');
  const clean = { scores: cleanScores, values: evaluate(metrics, labels, cleanScores) };

  // The random sequence is drawn in one order whatever the form: noise cell by cell, then the holes.
  const noisy = table.noisy(numeric, () => gaussian(random), scale, std);
  const noiseScores = await score(predict, noisy, rows, 'under Gaussian noise');

  const cellCount = Math.round(fraction * rows * missingColumns.length);
  const cells = sampleDistinct(rows * missingColumns.length, cellCount, random);
  const holed = table.holed(cells, missingColumns, missingValue);
  const missingScores = await score(predict, holed, rows, 'under injected missing values');

  const minSize = input.minSliceSize ?? 10;
  const slices = (input.slices ?? []).map((spec) => {
    if (spec.values)
      checkLengths('robustness', { length: rows }, spec.values, ['rows', `slice '${spec.column}' values`]);
    else table.check([spec.column], 'slice');
    const values = spec.values ?? table.column(spec.column);
    return sliceReport(spec, values, labels, cleanScores, metrics, worstBy, minSize);
  });
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
    rows,
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
