import { FailureTypes } from '../../dsl/failures';
import { ApplicationFailure } from '@temporalio/common';
import type { StepContext } from '../library';
import { implement, stopIfCancelled } from '../library';
import { reportRef, type ColumnType, type DatasetRef, type ReportRef } from '../refs';
import type { Cell } from '../common/dataset/cells';
import { readDatasetValues } from '../common/dataset/dataset';
import { evaluators, type CheckResult, type Evaluator, type ReferenceColumn } from './quality-checks';
import type { ColumnCheck, QualityFailure } from './quality-schema';
import { checkQuality } from './steps';

/** The failure type when a dataset breaks its declared quality checks. */
export const DATA_QUALITY_FAILED = FailureTypes.DataQualityFailed;

const PROGRESS_EVERY = 10_000;

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

/** Reads one column of a reference dataset into memory, for a distribution rule. */
async function referenceColumn(ctx: StepContext, reference: DatasetRef, column: string): Promise<ReferenceColumn> {
  let index = -1;
  let type: ColumnType = 'string';
  const values: Cell[] = [];
  for await (const item of readDatasetValues(ctx.artifacts, reference)) {
    if (Array.isArray(item)) {
      values.push(item[index]!);
      continue;
    }
    index = item.columns.findIndex((c) => c.name === column);
    if (index < 0)
      return {
        problem: `the reference has no column '${column}'; its columns are ${item.columns.map((c) => c.name).join(', ')}`,
      };
    type = item.columns[index]!.type;
  }
  if (values.length === 0) return { problem: 'the reference dataset has no rows' };
  return { type, values, rows: values.length };
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

  let running: Evaluator[] = [];
  let rows = 0;
  for await (const item of readDatasetValues(ctx.artifacts, dataset)) {
    if (!Array.isArray(item)) {
      running = evaluators(checks, item.columns, references);
      continue;
    }
    rows++;
    for (const e of running) e.observe(item, rows);
    if (rows % PROGRESS_EVERY === 0) {
      ctx.heartbeat({ phase: 'check', rows, of: dataset.rows });
      stopIfCancelled(ctx);
    }
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
