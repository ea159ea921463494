import type { ArtifactStore } from '../../activities/artifacts/store';
import type { EvaluationReport } from '../../activities/evaluate/classifier';
import type { FairnessReportArtifact } from '../../activities/evaluate/fairness';
import {
  bestReport,
  evaluationViews,
  fairnessView,
  runReports,
  type GateOutcome,
} from '../../activities/evaluate/report-views';
import type { Principal, Store } from '../../store';
import type { ModelVersionDetail } from '../api';
import { artifactRefs } from './run-detail';

type Reports = Pick<ModelVersionDetail, 'curves' | 'confusion' | 'fairness' | 'robustness'>;

export { prCurve } from '../../activities/evaluate/report-views';

/**
 * A model version's evaluation, read from the report artifacts of the run that registered it:
 * the classifier evaluation (ROC, PR, calibration, confusion matrix), fairness and robustness.
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
  const found = await runReports(await store.steps.listSteps(actor, runId), artifacts, artifactRefs);
  const best = (kind: string) => bestReport(found, kind, modelSha256);
  const evaluation = best('kiln.evaluation');
  const fairness = best('kiln.fairness');
  const robustness = best('kiln.robustness');
  return {
    ...(evaluation ? evaluationViews(evaluation.report as unknown as EvaluationReport) : none),
    fairness: fairness
      ? fairnessView(
          fairness.report as unknown as FairnessReportArtifact,
          (fairness.output.outcomes as GateOutcome[] | undefined) ?? [],
        )
      : null,
    robustness: robustness?.report ?? null,
  };
}
