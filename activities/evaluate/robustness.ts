import type { ColumnarDataset } from '../common/dataset/dataset';
import { invalidData } from '../common/failures';
import { mulberry32 } from '../common/random';
import { implement } from '../library';
import { reportRef } from '../refs';
import { loadModel, type ModelSpec } from '../common/model/model';
import { metricReport, reportSubject, type ReportSubject } from './model-report';
import { robustnessMetricValues, type RobustnessReport, type SliceSpec } from './robustness-report';
import { robustnessColumns } from './robustness-columns';
import { labelledColumns, requireBinary, requireEveryClass, scoreColumns } from '../common/model/scored-rows';
import { judgeStepGates } from '../common/gates/step-gates';
import { evaluateRobustness } from './steps';

export { evaluateRobustness } from './steps';

const STEP = 'evaluate.robustness';
const DEFAULT_BINS = 4;

/** The report artifact of `evaluate.robustness`. */
export interface RobustnessReportArtifact extends RobustnessReport, ReportSubject {
  kind: 'kiln.robustness';
  version: 1;
  seed: number;
  /** Where each numeric column's noise scale came from: the model's fitted transform, else this data. */
  stdSource: Record<string, 'transform' | 'data'>;
  metrics: Record<string, number>;
}

const std = (values: number[]): number => {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
};

/** Numeric feature columns with the std noise is scaled by, and the categorical ones. */
function featureColumns(model: ModelSpec, data: ColumnarDataset) {
  const scale: Record<string, number> = {};
  const stdSource: Record<string, 'transform' | 'data'> = {};
  const categorical: string[] = [];
  for (const f of model.transform.spec.features) {
    if (f.type === 'categorical') categorical.push(f.name);
    else if (f.type === 'numeric') {
      scale[f.name] = f.std;
      stdSource[f.name] = 'transform';
    } else {
      // A bucketized feature keeps no spread of its raw values; this data's is the next best.
      const present = Array.from(data.values.get(f.name) ?? []).filter(
        (v): v is number => typeof v === 'number' && Number.isFinite(v),
      );
      scale[f.name] = present.length > 0 ? std(present) : 0;
      stdSource[f.name] = 'data';
    }
  }
  return { scale, stdSource, categorical };
}

export const evaluateRobustnessImpl = implement(evaluateRobustness, async (input, ctx) => {
  const model = await loadModel(ctx.artifacts, input.model.uri);
  requireBinary(model, STEP);
  const names = input.dataset.columns.map((c) => c.name);
  // Slice columns are read too; one the data lacks is refused below, once the label is checked.
  const sliceColumns = input.sliceBy.map((s) => (typeof s === 'string' ? s : s.column));
  const { data, labels } = await labelledColumns(
    ctx.artifacts,
    model,
    input.dataset,
    STEP,
    sliceColumns.filter((column) => names.includes(column)),
  );
  requireEveryClass(model, labels, STEP);
  const slices: SliceSpec[] = input.sliceBy.map((s) => {
    const column = typeof s === 'string' ? s : s.column;
    const declared = input.dataset.columns.find((c) => c.name === column);
    if (!declared)
      throw invalidData(
        `${STEP}: slice column '${column}' is not in the data; columns are ${input.dataset.columns.map((c) => c.name).join(', ')}`,
        { column },
      );
    if (typeof s !== 'string') return { column, kind: 'quantile', bins: s.bins };
    return declared.type === 'number' || declared.type === 'integer'
      ? { column, kind: 'quantile', bins: DEFAULT_BINS }
      : { column, kind: 'categorical' };
  });
  const { scale, stdSource, categorical } = featureColumns(model, data);
  const report = await metricReport(STEP, () =>
    robustnessColumns({
      data,
      columnNames: names,
      labels,
      predict: (columns) => {
        ctx.heartbeat({ rows: columns.rows });
        const proba = scoreColumns(model, columns, STEP);
        return Float64Array.from({ length: columns.rows }, (_, i) => proba[2 * i + 1]!);
      },
      std: scale,
      categorical,
      random: mulberry32(input.seed),
      threshold: input.threshold,
      noise: { scale: input.noise },
      missing: { fraction: input.missingRate },
      slices,
      worstBy: input.worstBy,
      minSliceSize: input.minSliceSize,
    }),
  );
  const values = robustnessMetricValues(report);
  const artifact: RobustnessReportArtifact = {
    kind: 'kiln.robustness',
    version: 1,
    ...reportSubject(input, model, data.rows),
    seed: input.seed,
    stdSource,
    metrics: values,
    ...report,
  };
  const stored = await ctx.artifacts.putJson(artifact);
  ctx.log('robustness evaluated', { ...values, report: stored.sha256 });
  const outcomes = judgeStepGates(values, input.gates);
  const worst = report.worstSlice;
  return {
    metrics: {
      noiseFlipRate: report.noise.flipRate!,
      noiseMeanAbsChange: report.noise.meanAbsChange,
      noiseDropAccuracy: report.noise.drop.accuracy!,
      noiseDropRocAuc: report.noise.drop.roc_auc!,
      missingFlipRate: report.missing.flipRate!,
      missingMeanAbsChange: report.missing.meanAbsChange,
      missingDropAccuracy: report.missing.drop.accuracy!,
      missingDropRocAuc: report.missing.drop.roc_auc!,
      rows: data.rows,
    },
    worstSlice: worst && {
      column: worst.column,
      slice: worst.slice,
      rows: worst.count,
      metric: report.worstBy,
      value: worst.metrics[report.worstBy]!,
    },
    outcomes,
    report: reportRef.parse({ kind: 'report', ...stored }),
  };
});
