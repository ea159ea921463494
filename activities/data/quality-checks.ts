import type { ColumnType } from '../refs';
import { hashForReport } from '../common/keyed-hash';
import type { Cell } from '../common/dataset/cells';
import type { Column } from '../common/dataset/dataset';
import { categoricalBinning, histogram, numericBinning, psi, type Binning } from '../common/metrics/psi';
import type { ColumnCheck, QualityCheck, QualityRule } from './quality-schema';

// Each declared rule becomes an evaluator that sees every value of its column once, in row order,
// and then judges. Rules are independent, so the step can run them a column at a time.
// Rows are numbered from 1 for the first data row, as the messages and the report show them.

/** How many failing rows a result lists. */
export const FIRST_ROWS = 5;
/** How many bins of a distribution the report lists, largest contributions first. */
const REPORTED_BINS = 20;

export interface CheckResult {
  column?: string;
  rule: QualityRule;
  /** The rule as messages name it: "range [18, 100]". */
  check: string;
  passed: boolean;
  observed: Record<string, unknown>;
  /** Rows that broke a row-level rule: how many and the first few; null for rules about a whole column or the dataset. */
  failingRows: { count: number; first: number[] } | null;
  /** Why it failed, as the failure message says it; absent when it passed. */
  message?: string;
}

/** A distribution rule's reference column, read before the pass over the data; or why it cannot be used. */
export type ReferenceColumn = { type: ColumnType; values: Cell[]; rows: number } | { problem: string };

export interface Evaluator {
  /** The column whose values `observe` sees; absent for a rule judged without reading rows. */
  readonly column?: string;
  observe(value: Cell, rowNumber: number): void;
  finish(rows: number): CheckResult;
}

class FailingRows {
  count = 0;
  first: number[] = [];
  add(row: number): void {
    this.count++;
    if (this.first.length < FIRST_ROWS) this.first.push(row);
  }
  get summary() {
    return { count: this.count, first: this.first };
  }
  /** "(rows 17, 204, 311)", or "(first rows ...)" when there are more than listed. */
  get text(): string {
    const which = this.count === 1 ? 'row' : this.count > this.first.length ? 'first rows' : 'rows';
    return `(${which} ${this.first.join(', ')})`;
  }
}

const rowsWord = (n: number) => (n === 1 ? '1 row' : `${n} rows`);
/** The verb for a count of rows: `verb(1, 'repeats', 'repeat')`. */
const verb = (n: number, one: string, many: string) => (n === 1 ? one : many);
const isNumeric = (type: ColumnType) => type === 'integer' || type === 'number';
const show = (value: Cell) => (typeof value === 'string' ? `'${value}'` : String(value));

/** How a column's values appear in messages and the report: in clear, or as keyed hashes when it is sensitive. */
interface Shown {
  value(v: Cell): Cell;
  text(v: Cell): string;
}
const inClear: Shown = { value: (v) => v, text: show };
const asHash: Shown = { value: hashForReport, text: (v) => hashForReport(v) ?? 'null' };
const keyOf = (value: Cell) => `${typeof value}:${String(value)}`;

function rangeText(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `[${min}, ${max}]`;
  return min !== undefined ? `>= ${min}` : `<= ${max}`;
}

/** The rules of one column check, in a fixed order, each with its name as messages show it. */
function rulesOf(check: ColumnCheck): Array<{ rule: QualityRule; check: string }> {
  const rules: Array<{ rule: QualityRule; check: string }> = [];
  if (check.type !== undefined) rules.push({ rule: 'type', check: `type ${check.type}` });
  if (check.notNull) rules.push({ rule: 'notNull', check: 'not null' });
  if (check.min !== undefined || check.max !== undefined)
    rules.push({ rule: 'range', check: `range ${rangeText(check.min, check.max)}` });
  if (check.allowed !== undefined) rules.push({ rule: 'allowed', check: `allowed [${check.allowed.join(', ')}]` });
  if (check.unique) rules.push({ rule: 'unique', check: 'unique' });
  if (check.distribution !== undefined) rules.push({ rule: 'distribution', check: 'distribution' });
  return rules;
}

const judged = (
  base: { column?: string; rule: QualityRule; check: string },
  failure: string | undefined,
  observed: Record<string, unknown>,
  failingRows: CheckResult['failingRows'],
): CheckResult => ({
  ...base,
  passed: failure === undefined,
  observed,
  failingRows,
  ...(failure !== undefined && {
    message: `${base.column === undefined ? '' : `column '${base.column}' `}${base.check}: ${failure}`,
  }),
});

const judgedNow = (result: CheckResult): Evaluator => ({ observe() {}, finish: () => result });

function columnRule(
  check: ColumnCheck,
  rule: { rule: QualityRule; check: string },
  columns: readonly Column[],
  reference: ReferenceColumn | undefined,
): Evaluator {
  const base = { column: check.column, ...rule };
  const index = columns.findIndex((c) => c.name === check.column);
  if (index < 0) {
    return judgedNow(judged(base, `no such column; columns are ${columns.map((c) => c.name).join(', ')}`, {}, null));
  }
  const type = columns[index]!.type;
  const shown = columns[index]!.sensitive ? asHash : inClear;
  switch (rule.rule) {
    case 'type': {
      const ok = type === check.type || (check.type === 'number' && type === 'integer');
      return judgedNow(judged(base, ok ? undefined : `the column is ${type}`, { type }, null));
    }
    case 'notNull': {
      const failing = new FailingRows();
      return {
        column: check.column,
        observe: (v, n) => {
          if (v === null) failing.add(n);
        },
        finish: () =>
          judged(
            base,
            failing.count
              ? `${rowsWord(failing.count)} ${verb(failing.count, 'is', 'are')} missing a value ${failing.text}`
              : undefined,
            { missing: failing.count },
            failing.summary,
          ),
      };
    }
    case 'range': {
      if (!isNumeric(type)) return judgedNow(judged(base, `the column is ${type}, not numeric`, { type }, null));
      const failing = new FailingRows();
      let lo = Infinity;
      let hi = -Infinity;
      return {
        column: check.column,
        observe(value, n) {
          const v = value as number | null;
          if (v === null) return;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
          if ((check.min !== undefined && v < check.min) || (check.max !== undefined && v > check.max)) failing.add(n);
        },
        finish: () =>
          judged(
            base,
            failing.count ? `${rowsWord(failing.count)} out of range ${failing.text}` : undefined,
            { min: lo === Infinity ? null : shown.value(lo), max: hi === -Infinity ? null : shown.value(hi) },
            failing.summary,
          ),
      };
    }
    case 'allowed': {
      const allowed = new Set(check.allowed!.map(keyOf));
      const failing = new FailingRows();
      const others = new Map<string, { value: Cell; rows: number }>();
      return {
        column: check.column,
        observe(v, n) {
          if (v === null || allowed.has(keyOf(v))) return;
          failing.add(n);
          const seen = others.get(keyOf(v));
          if (seen) seen.rows++;
          else others.set(keyOf(v), { value: v, rows: 1 });
        },
        finish() {
          const ranked = [...others.values()].sort((a, b) => b.rows - a.rows);
          const examples = ranked
            .slice(0, FIRST_ROWS)
            .map((o) => shown.text(o.value))
            .join(', ');
          const failure = failing.count
            ? `${rowsWord(failing.count)} ${verb(failing.count, 'holds', 'hold')} other values, such as ${examples} ${failing.text}`
            : undefined;
          return judged(
            base,
            failure,
            {
              otherValues: ranked.slice(0, REPORTED_BINS).map((o) => ({ ...o, value: shown.value(o.value) })),
              distinctOtherValues: ranked.length,
            },
            failing.summary,
          );
        },
      };
    }
    case 'unique': {
      const seen = new Set<string>();
      const repeated: Cell[] = [];
      const failing = new FailingRows();
      return {
        column: check.column,
        observe(v, n) {
          if (v === null) return;
          const key = keyOf(v);
          if (!seen.has(key)) {
            seen.add(key);
            return;
          }
          failing.add(n);
          if (repeated.length < FIRST_ROWS && !repeated.some((r) => keyOf(r) === key)) repeated.push(v);
        },
        finish: () =>
          judged(
            base,
            failing.count
              ? `${rowsWord(failing.count)} ${verb(failing.count, 'repeats', 'repeat')} an earlier value, such as ${repeated.map(shown.text).join(', ')} ${failing.text}`
              : undefined,
            { distinct: seen.size, repeatedValues: repeated.map(shown.value) },
            failing.summary,
          ),
      };
    }
    case 'distribution':
      return distribution(base, type, check.distribution!, reference!, shown);
    case 'rowCount':
      throw new Error('rowCount is not a column rule');
  }
}

function distribution(
  base: { column: string; rule: QualityRule; check: string },
  type: ColumnType,
  rule: NonNullable<ColumnCheck['distribution']>,
  reference: ReferenceColumn,
  shown: Shown,
): Evaluator {
  if ('problem' in reference) return judgedNow(judged(base, reference.problem, {}, null));
  const numeric = isNumeric(type);
  if (numeric !== isNumeric(reference.type) || (!numeric && type !== reference.type)) {
    return judgedNow(
      judged(
        base,
        `the column is ${type} but ${reference.type} in the reference`,
        { type, referenceType: reference.type },
        null,
      ),
    );
  }
  let binning: Binning;
  if (numeric) {
    const present = reference.values.filter((v): v is number => v !== null);
    if (present.length === 0) return judgedNow(judged(base, 'the reference has no values in this column', {}, null));
    binning = numericBinning(present, rule.bins);
  } else {
    binning = categoricalBinning(reference.values);
  }
  const expected = histogram(binning, reference.values);
  const counts = binning.labels.map(() => 0);
  // A sensitive column's bins are named by number: their labels are its values, or edges taken from them.
  const label = (bin: string, i: number) =>
    shown === inClear || bin === binning.labels.at(-1) ? bin : `bin ${i + 1} of ${binning.labels.length - 1}`;
  return {
    column: base.column,
    observe: (v) => {
      counts[binning.binOf(v)]!++;
    },
    finish() {
      const result = psi(binning.labels, expected, counts);
      const value = Number(result.psi.toFixed(6));
      const bins = result.bins
        .map((b, i) => ({ ...b, bin: label(b.bin, i) }))
        .sort((a, b) => b.contribution - a.contribution)
        .slice(0, REPORTED_BINS);
      const failure =
        result.psi > rule.maxPsi
          ? `PSI ${result.psi.toFixed(3)} against the reference exceeds ${rule.maxPsi}`
          : undefined;
      return judged(
        base,
        failure,
        { psi: value, maxPsi: rule.maxPsi, referenceRows: reference.rows, bins: bins.length, largestShifts: bins },
        null,
      );
    },
  };
}

function rowCount(check: Extract<QualityCheck, { rowCount: unknown }>): Evaluator {
  const { min, max } = check.rowCount;
  const base = { rule: 'rowCount' as const, check: `row count ${rangeText(min, max)}` };
  return {
    observe() {},
    finish: (rows) =>
      judged(
        base,
        (min !== undefined && rows < min) || (max !== undefined && rows > max)
          ? `the dataset has ${rowsWord(rows)}`
          : undefined,
        { rows },
        null,
      ),
  };
}

/** The distribution rules' references, keyed by the declared rule object. */
export type References = ReadonlyMap<NonNullable<ColumnCheck['distribution']>, ReferenceColumn>;

/** One evaluator per rule of every check, in declaration order, for a dataset with these columns. */
export function evaluators(
  checks: readonly QualityCheck[],
  columns: readonly Column[],
  references: References,
): Evaluator[] {
  return checks.flatMap((check) => {
    if ('rowCount' in check) return [rowCount(check)];
    return rulesOf(check).map((rule) =>
      columnRule(check, rule, columns, check.distribution && references.get(check.distribution)),
    );
  });
}

/** Runs evaluators over rows held in memory: for tests and small datasets. */
export function evaluate(
  checks: readonly QualityCheck[],
  columns: readonly Column[],
  rows: ReadonlyArray<readonly Cell[]>,
  references: References = new Map(),
): CheckResult[] {
  const all = evaluators(checks, columns, references);
  const indices = all.map((e) => columns.findIndex((c) => c.name === e.column));
  rows.forEach((row, i) => {
    all.forEach((e, k) => {
      if (indices[k]! >= 0) e.observe(row[indices[k]!]!, i + 1);
    });
  });
  return all.map((e) => e.finish(rows.length));
}
