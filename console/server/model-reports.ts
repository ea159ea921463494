import type { ArtifactStore } from '../../activities/artifacts/store';
import type { EvaluationReport } from '../../activities/evaluate/classifier';
import type { FairnessReportArtifact } from '../../activities/evaluate/fairness';
import type { Principal, Store } from '../../store';
import type { ModelVersionDetail } from '../api';
import { artifactRefs } from './run-detail';

type Reports = Pick<ModelVersionDetail, 'curves' | 'confusion' | 'fairness' | 'robustness'>;

interface GateOutcome {
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

function fromEvaluation(report: EvaluationReport): Pick<Reports, 'curves' | 'confusion'> {
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

function fromFairness(report: FairnessReportArtifact, outcomes: GateOutcome[]): NonNullable<Reports['fairness']> {
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

/**
 * A model version's evaluation, read from the report artifacts of the run that registered it:
 * the classifier evaluation (ROC, PR, calibration, confusion matrix), fairness and robustness.
 * Several evaluations in one run (tuning trials inside a map): the top-level one of this very
 * model is preferred, then any top-level one, then the last.
 */
export async function modelReports(
  store: Store,
  artifacts: ArtifactStore,
  actor: Principal,
  runId: string | null,
  modelSha256: string,
): Promise<Reports> {
  const none: Reports = {
    curves: { class: null, roc: [], pr: [], calibration: [] },
    confusion: null,
    fairness: null,
    robustness: null,
  };
  if (!runId) return none;
  const found: Array<{ node: string; output: Record<string, unknown>; report: Record<string, unknown> }> = [];
  for (const step of await store.steps.listSteps(actor, runId)) {
    if (step.status !== 'succeeded' && step.status !== 'cached') continue;
    for (const ref of artifactRefs(step.output).filter((r) => r.kind === 'report')) {
      const report = await artifacts
        .readJson<Record<string, unknown>>(`artifact:sha256:${ref.sha256}`)
        // A report file gone from this machine's artifact store leaves that report out, not the page.
        .catch(() => undefined);
      if (report) found.push({ node: step.nodeId, output: step.output as Record<string, unknown>, report });
    }
  }
  const best = (kind: string) => {
    const ofKind = found.filter((f) => f.report.kind === kind);
    const score = (f: (typeof ofKind)[number]) =>
      ((f.report.model as { sha256?: string } | undefined)?.sha256 === modelSha256 ? 2 : 0) +
      (f.node.includes('[') ? 0 : 1);
    return ofKind.reduce<(typeof ofKind)[number] | undefined>(
      (a, f) => (!a || score(f) >= score(a) ? f : a),
      undefined,
    );
  };
  const evaluation = best('kiln.evaluation');
  const fairness = best('kiln.fairness');
  const robustness = best('kiln.robustness');
  return {
    ...(evaluation ? fromEvaluation(evaluation.report as unknown as EvaluationReport) : none),
    fairness: fairness
      ? fromFairness(
          fairness.report as unknown as FairnessReportArtifact,
          (fairness.output.outcomes as GateOutcome[] | undefined) ?? [],
        )
      : null,
    robustness: robustness?.report ?? null,
  };
}
