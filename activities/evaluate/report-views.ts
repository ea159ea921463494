import type { ModelVersionDetail } from '../../console/api';
import type { StepExecution } from '../../store';
import type { ArtifactStore } from '../artifacts/store';
import type { EvaluationReport } from './classifier';
import type { FairnessReportArtifact } from './fairness';

/** What a reader of a model version sees of its evaluation: the console's model page and the model card. */
export type ReportViews = Pick<ModelVersionDetail, 'curves' | 'confusion' | 'fairness'>;

/** A gate outcome as `evaluate.fairness` outputs it. */
export interface GateOutcome {
  metric: string;
  value: number | null;
  min?: number;
  max?: number;
  passed: boolean;
}

/** ROC points and the class counts give precision-recall: TP = tpr·P, FP = fpr·N. */
export function prCurve(fpr: number[], tpr: number[], positives: number, negatives: number) {
  return fpr.flatMap((f, i) => {
    const tp = tpr[i]! * positives;
    const fp = f * negatives;
    return tp + fp > 0 ? [{ recall: tpr[i]!, precision: tp / (tp + fp) }] : [];
  });
}

/** ROC, precision-recall and reliability points (of the first scored class) and the confusion matrix. */
export function evaluationViews(report: EvaluationReport): Pick<ReportViews, 'curves' | 'confusion'> {
  const roc = report.roc[0];
  const calibration = report.calibration[0];
  const { classes, counts } = report.confusionMatrix;
  const k = roc ? classes.indexOf(roc.class) : -1;
  const total = counts.flat().reduce((a, b) => a + b, 0);
  const positives = k >= 0 ? counts[k]!.reduce((a, b) => a + b, 0) : 0;
  return {
    curves: {
      class: roc?.class ?? null,
      roc: roc ? roc.fpr.map((fpr, i) => ({ fpr, tpr: roc.tpr[i]! })) : [],
      pr: roc && k >= 0 ? prCurve(roc.fpr, roc.tpr, positives, total - positives) : [],
      calibration: (calibration?.bins ?? []).flatMap((b) =>
        b.count > 0 && b.meanPredicted !== null && b.fractionPositive !== null
          ? [{ predicted: b.meanPredicted, observed: b.fractionPositive, count: b.count }]
          : [],
      ),
    },
    confusion: { classes, counts },
  };
}

/** Rates by group with each group's disparate impact, and every fairness gate with its threshold and verdict. */
export function fairnessView(
  report: FairnessReportArtifact,
  outcomes: GateOutcome[],
): NonNullable<ReportViews['fairness']> {
  const di = report.disparateImpact;
  return {
    groups: report.groups.map((g) => ({
      group: g.group,
      count: g.count,
      selectionRate: g.selectionRate,
      truePositiveRate: g.truePositiveRate,
      falsePositiveRate: g.falsePositiveRate,
      disparateImpact: di.ratios[g.group] ?? null,
    })),
    gates: [
      ...outcomes.flatMap((o) =>
        o.value === null || (o.min === undefined && o.max === undefined)
          ? []
          : [
              {
                metric: o.metric,
                value: o.value,
                threshold: (o.min ?? o.max)!,
                bound: o.min !== undefined ? ('min' as const) : ('max' as const),
                passes: o.passed,
              },
            ],
      ),
      {
        metric: 'disparateImpact (four-fifths rule)',
        value: di.minRatio,
        threshold: di.threshold,
        bound: 'min',
        passes: di.passes,
      },
    ],
  };
}

/** A report artifact a run's step wrote, with the step's output (a gate step's outcomes). */
export interface FoundReport {
  node: string;
  output: Record<string, unknown>;
  report: Record<string, unknown>;
}

/** Every report artifact of a run's finished steps, read from the artifact store; `refsOf` finds the references in an output. */
export async function runReports(
  steps: readonly StepExecution[],
  artifacts: ArtifactStore,
  refsOf: (output: unknown) => Array<{ kind: string; sha256: string }>,
): Promise<FoundReport[]> {
  const found: FoundReport[] = [];
  for (const step of steps) {
    if (step.status !== 'succeeded' && step.status !== 'cached') continue;
    for (const ref of refsOf(step.output).filter((r) => r.kind === 'report')) {
      const report = await artifacts
        .readJson<Record<string, unknown>>(`artifact:sha256:${ref.sha256}`)
        // A report file gone from this machine's artifact store (kiln gc) leaves that report out, not the page.
        .catch(() => undefined);
      if (report) found.push({ node: step.nodeId, output: step.output as Record<string, unknown>, report });
    }
  }
  return found;
}

/**
 * The report of `kind` (`kiln.fairness`) that speaks for a model. Several in one run (tuning
 * trials inside a map): the top-level one of this very model is preferred, then any top-level one, then the last.
 */
export function bestReport(found: readonly FoundReport[], kind: string, modelSha256: string): FoundReport | undefined {
  const score = (f: FoundReport) =>
    ((f.report.model as { sha256?: string } | undefined)?.sha256 === modelSha256 ? 2 : 0) +
    (f.node.includes('[') ? 0 : 1);
  return found
    .filter((f) => f.report.kind === kind)
    .reduce<FoundReport | undefined>((a, f) => (!a || score(f) >= score(a) ? f : a), undefined);
}
