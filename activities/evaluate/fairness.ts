import { isAbsent, type Cell } from '../common/dataset/cells';
import type { ColumnValues, Row } from '../common/dataset/dataset';
import { invalidData } from '../common/failures';
import { categoryOf } from '../common/model/transform';
import { implement } from '../library';
import { reportRef, type DatasetRef } from '../refs';
import { loadModel } from '../common/model/model';
import { fairnessMetricValues, fairnessReport, type FairnessReport } from './fairness-report';
import { metricReport, reportSubject, type ReportSubject } from './model-report';
import { cellAt, labelledColumns, requireBinary, scoreColumns } from '../common/model/scored-rows';
import { definedOrZero, judgeStepGates } from '../common/gates/step-gates';
import { evaluateFairness, type SensitiveGroups } from './steps';

export { evaluateFairness, sensitiveGroups, type SensitiveGroups } from './steps';

const STEP = 'evaluate.fairness';

/** The report artifact of `evaluate.fairness`; NaN values (0/0 ratios) are stored as null. */
export interface FairnessReportArtifact extends FairnessReport, ReportSubject {
  kind: 'kiln.fairness';
  version: 1;
  sensitive: string | SensitiveGroups;
  threshold: number;
  metrics: Record<string, number>;
  undefinedMetrics: string[];
}

const binLabels = (bins: readonly number[]): string[] => [
  `<${bins[0]}`,
  ...bins.slice(1).map((hi, i) => `[${bins[i]}, ${hi})`),
  `>=${bins.at(-1)}`,
];

/** The group name of every row: the column's values, or the groups a derivation assigns. */
export function sensitiveValues(
  rows: readonly Row[],
  sensitive: string | SensitiveGroups,
  columns: DatasetRef['columns'],
): string[] {
  const column = typeof sensitive === 'string' ? sensitive : sensitive.column;
  return sensitiveGroupsOf(
    rows.map((row) => row[column] ?? null),
    sensitive,
    columns,
  );
}

/** As `sensitiveValues`, from the sensitive column's values. */
export function sensitiveGroupsOf(
  values: ColumnValues,
  sensitive: string | SensitiveGroups,
  columns: DatasetRef['columns'],
): string[] {
  const column = typeof sensitive === 'string' ? sensitive : sensitive.column;
  if (!columns.some((c) => c.name === column)) {
    throw invalidData(
      `${STEP}: the sensitive column '${column}' is not in the data; columns are ${columns.map((c) => c.name).join(', ')}`,
      { column },
    );
  }
  const other = typeof sensitive === 'string' ? undefined : sensitive.other;
  const uncovered = (i: number, value: Cell | undefined, why: string): string => {
    if (other !== undefined) return other;
    throw invalidData(
      `${STEP}: row ${i + 1} has ${column} = ${JSON.stringify(value ?? null)}, which ${why}; cover it or declare \`other\` for the rest`,
      { column, row: i + 1 },
    );
  };
  let group: (value: Cell | undefined, i: number) => string;
  if (typeof sensitive === 'string') {
    group = (v, i) => (isAbsent(v) ? uncovered(i, v, 'is missing and has no group') : categoryOf(v as Cell));
  } else if ('map' in sensitive) {
    const map = new Map(Object.entries(sensitive.map));
    group = (v, i) =>
      isAbsent(v)
        ? uncovered(i, v, 'is missing')
        : (map.get(categoryOf(v as Cell)) ?? uncovered(i, v, 'no entry of `map` names'));
  } else if ('match' in sensitive) {
    const rules = sensitive.match.map((m) => ({ re: new RegExp(m.pattern), group: m.group }));
    group = (v, i) => {
      if (isAbsent(v)) return uncovered(i, v, 'is missing');
      const text = categoryOf(v as Cell);
      return rules.find((r) => r.re.test(text))?.group ?? uncovered(i, v, 'no pattern of `match` matches');
    };
  } else {
    const { bins } = sensitive;
    const labels = binLabels(bins);
    group = (v, i) => {
      const x = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
      if (typeof x !== 'number' || !Number.isFinite(x)) return uncovered(i, v, 'is not a number to bin');
      let b = 0;
      while (b < bins.length && x >= bins[b]!) b++;
      return labels[b]!;
    };
  }
  return Array.from({ length: values.length }, (_, i) => group(cellAt(values, i), i));
}

export const evaluateFairnessImpl = implement(evaluateFairness, async (input, ctx) => {
  const model = await loadModel(ctx.artifacts, input.model.uri);
  requireBinary(model, STEP);
  const column = typeof input.sensitive === 'string' ? input.sensitive : input.sensitive.column;
  const present = input.dataset.columns.some((c) => c.name === column);
  const { data, labels } = await labelledColumns(ctx.artifacts, model, input.dataset, STEP, present ? [column] : []);
  // An absent sensitive column is refused here, with the message that names the data's columns.
  const groups = sensitiveGroupsOf(data.values.get(column) ?? [], input.sensitive, input.dataset.columns);
  const proba = scoreColumns(model, data, STEP);
  const predicted = Array.from(labels, (_, i) => (proba[2 * i + 1]! >= input.threshold ? 1 : 0));
  ctx.heartbeat({ rows: data.rows });
  const report = await metricReport(STEP, () =>
    fairnessReport(labels, predicted, groups, input.reference === undefined ? {} : { reference: input.reference }),
  );
  const exact = fairnessMetricValues(report);
  const { values, undefinedMetrics } = definedOrZero(exact);
  const artifact: FairnessReportArtifact = {
    kind: 'kiln.fairness',
    version: 1,
    ...reportSubject(input, model, data.rows),
    sensitive: input.sensitive,
    threshold: input.threshold,
    metrics: exact,
    undefinedMetrics,
    ...report,
  };
  const stored = await ctx.artifacts.putJson(artifact);
  ctx.log('fairness evaluated', { ...values, groups: report.groups.length, report: stored.sha256 });
  const outcomes = judgeStepGates(exact, input.gates);
  return {
    metrics: {
      demographicParityDifference: values.demographic_parity_difference!,
      demographicParityRatio: values.demographic_parity_ratio!,
      equalizedOddsDifference: values.equalized_odds_difference!,
      truePositiveRateDifference: values.true_positive_rate_difference!,
      falsePositiveRateDifference: values.false_positive_rate_difference!,
      disparateImpactRatio: values.disparate_impact_ratio!,
      rows: data.rows,
    },
    selectionRate: Object.fromEntries(report.groups.map((g) => [g.group, g.selectionRate])),
    groupRows: Object.fromEntries(report.groups.map((g) => [g.group, g.count])),
    undefinedMetrics,
    outcomes,
    report: reportRef.parse({ kind: 'report', ...stored }),
  };
});
