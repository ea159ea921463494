import { invalidData } from '../common/failures';
import { quantile } from '../common/metrics/quantile';
import { implement } from '../library';
import { reportRef } from '../refs';
import { loadModel } from '../common/model/model';
import { regressionMetrics, type RegressionMetrics } from '../common/metrics/regression';
import { scoreHeldOut } from './scored-held-out';
import { evaluateRegressor } from './steps';

export { evaluateRegressor, regressionMetricsOutput } from './steps';

/** Residuals (actual − predicted): where the errors sit, and the rows that miss most. */
export interface ResidualSummary {
  /** The mean residual: positive when the model predicts too low on average. */
  mean: number;
  std: number;
  quantiles: { min: number; p05: number; p25: number; median: number; p75: number; p95: number; max: number };
  /** The rows with the largest |residual|, largest first; row numbers count from 1. */
  largest: Array<{ row: number; actual: number; predicted: number; residual: number }>;
}

/** The report artifact of `evaluate.regressor`. */
export interface RegressionReport {
  kind: 'kiln.regression-evaluation';
  version: 1;
  model: { sha256: string; task: string; architecture: string; label: string; backend: string };
  dataset: { sha256: string; rows: number };
  metrics: RegressionMetrics & { rows: number };
  residuals: ResidualSummary;
}

const LARGEST = 10;

function residualSummary(actual: readonly number[], predicted: readonly number[]): ResidualSummary {
  const residuals = actual.map((y, i) => y - predicted[i]!);
  const n = residuals.length;
  const mean = residuals.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(residuals.reduce((a, r) => a + (r - mean) ** 2, 0) / n);
  const sorted = Float64Array.from(residuals).sort();
  const q = (p: number) => quantile(sorted, p);
  const largest = residuals
    .map((residual, i) => ({ row: i + 1, actual: actual[i]!, predicted: predicted[i]!, residual }))
    .sort((a, b) => Math.abs(b.residual) - Math.abs(a.residual) || a.row - b.row)
    .slice(0, LARGEST);
  return {
    mean,
    std,
    quantiles: {
      min: sorted[0]!,
      p05: q(0.05),
      p25: q(0.25),
      median: q(0.5),
      p75: q(0.75),
      p95: q(0.95),
      max: sorted[n - 1]!,
    },
    largest,
  };
}

export const evaluateRegressorImpl = implement(evaluateRegressor, async (input, ctx) => {
  const { dataset } = input;
  const model = await loadModel(ctx.artifacts, input.model.uri);
  const { label } = model;
  if (model.task !== 'regression') {
    throw invalidData(`the model of '${label}' is a ${model.task} classifier; score it with evaluate.classifier`, {
      task: model.task,
    });
  }
  if (!dataset.columns.some((c) => c.name === label)) {
    throw invalidData(
      `the evaluation data has no label column '${label}'; columns are ${dataset.columns.map((c) => c.name).join(', ')}`,
      { label },
    );
  }
  const actual: number[] = [];
  const predicted: number[] = [];
  await scoreHeldOut(
    ctx,
    model,
    dataset,
    (value, n) => {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        return invalidData(
          `row ${n} has ${value === null ? 'no value' : `the value ${JSON.stringify(value)}`} for the label '${label}'; evaluation needs a number in every row`,
          { label, row: n },
        );
      }
      actual.push(value);
      return undefined;
    },
    (outputs) => {
      for (const value of outputs) predicted.push(value);
    },
  );
  if (actual.length === 0) throw invalidData('the evaluation data has no rows', {});

  const metrics = { ...regressionMetrics(actual, predicted), rows: actual.length };
  const report: RegressionReport = {
    kind: 'kiln.regression-evaluation',
    version: 1,
    model: {
      sha256: input.model.sha256,
      task: model.task,
      architecture: model.architecture,
      label,
      backend: model.backend,
    },
    dataset: { sha256: dataset.sha256, rows: actual.length },
    metrics,
    residuals: residualSummary(actual, predicted),
  };
  const stored = await ctx.artifacts.putJson(report);
  ctx.log('evaluated', { ...metrics, report: stored.sha256 });
  return { metrics, report: reportRef.parse({ kind: 'report', ...stored }) };
});
