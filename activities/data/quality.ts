import { FailureTypes } from '../../dsl/failures';
import { ApplicationFailure } from '@temporalio/common';
import type { StepContext } from '../library';
import { implement, stopIfCancelled } from '../library';
import { reportRef, type ColumnType, type DatasetRef, type ReportRef } from '../refs';
import type { Cell } from '../common/dataset/cells';
import { loadColumns, type ColumnValues } from '../common/dataset/dataset';
import { evaluators, type CheckResult, type ReferenceColumn } from './quality-checks';
import type { ColumnCheck, QualityFailure } from './quality-schema';
import { parquetFileOf } from './dataset-file';
import { checkQuality } from './steps';

/** The failure type when a dataset breaks its declared quality checks. */
export const DATA_QUALITY_FAILED = FailureTypes.DataQualityFailed;

/** The report artifact of `data.quality`. */
export interface QualityReport {
  kind: 'kiln.dataQuality';
  version: 1;
  dataset: { uri: string; sha256: string; rows: number };
  passed: boolean;
  checks: CheckResult[];
}

/** The details of a DataQualityFailed failure: where the report is, and every failed rule. */
export interface QualityFailureDetails {
  report: ReportRef;
  failures: QualityFailure[];
}

/** A column's value at a row as a cell: numbers arrive in Float64Arrays with NaN for missing. */
const cellAt = (values: ColumnValues, row: number): Cell => {
  const v = values[row]!;
  return typeof v === 'number' && Number.isNaN(v) ? null : v;
};

/** Reads one column of a reference dataset into memory, for a distribution rule. */
async function referenceColumn(ctx: StepContext, reference: DatasetRef, column: string): Promise<ReferenceColumn> {
  const found = reference.columns.find((c) => c.name === column);
  if (!found)
    return {
      problem: `the reference has no column '${column}'; its columns are ${reference.columns.map((c) => c.name).join(', ')}`,
    };
  const { rows, values } = await loadColumns(ctx.artifacts, reference, [column]);
  if (rows === 0) return { problem: 'the reference dataset has no rows' };
  const cells = values.get(column)!;
  const type: ColumnType = found.type;
  return { type, values: Array.from({ length: rows }, (_, row) => cellAt(cells, row)), rows };
}

const asFailure = (r: CheckResult): QualityFailure => ({
  ...(r.column !== undefined && { column: r.column }),
  rule: r.rule,
  message: r.message!,
  count: r.failingRows?.count ?? null,
  rows: r.failingRows?.first ?? [],
});

export const checkQualityImpl = implement(checkQuality, async ({ dataset, checks, onFailure }, ctx) => {
  const references = new Map<NonNullable<ColumnCheck['distribution']>, ReferenceColumn>();
  for (const check of checks) {
    if ('column' in check && check.distribution) {
      references.set(check.distribution, await referenceColumn(ctx, check.distribution.reference, check.column));
      ctx.heartbeat({ phase: 'reference', column: check.column });
    }
  }

  // Rules are independent: each column is read once, alone, and every rule on it sees its values in row order.
  const running = evaluators(checks, dataset.columns, references);
  const rows = dataset.rows;
  const read = new Set(running.flatMap((e) => (e.column === undefined ? [] : [e.column])));
  // Reading a column checks the file against its reference; with none to read, check the file alone.
  if (read.size === 0) await parquetFileOf(ctx.artifacts, dataset);
  for (const column of read) {
    stopIfCancelled(ctx);
    const values = (await loadColumns(ctx.artifacts, dataset, [column])).values.get(column)!;
    for (const e of running.filter((r) => r.column === column)) {
      for (let row = 0; row < rows; row++) e.observe(cellAt(values, row), row + 1);
    }
    ctx.heartbeat({ phase: 'check', column, rows });
  }
  const results = running.map((e) => e.finish(rows));
  const passed = results.every((r) => r.passed);
  const body: QualityReport = {
    kind: 'kiln.dataQuality',
    version: 1,
    dataset: { uri: dataset.uri, sha256: dataset.sha256, rows },
    passed,
    checks: results,
  };
  // Written before any failure, so a stopped run still has the report on record.
  const report = reportRef.parse({ kind: 'report', ...(await ctx.artifacts.putJson(body)) });
  const failures = results.filter((r) => !r.passed).map(asFailure);
  ctx.log(
    passed
      ? 'data quality passed'
      : `data quality failed${onFailure === 'warn' ? ' (onFailure: warn, continuing)' : ''}`,
    {
      checks: results.length,
      failed: failures.length,
      report: report.sha256,
    },
  );
  if (!passed && onFailure === 'fail') {
    const details: QualityFailureDetails = { report, failures };
    throw ApplicationFailure.nonRetryable(
      `data quality failed: ${failures.map((f) => f.message).join('; ')}`,
      DATA_QUALITY_FAILED,
      details,
    );
  }
  return { report, passed, failures };
});
