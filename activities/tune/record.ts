import { implement } from '../library';
import { objectiveValue } from './ranking';
import { recordTrial } from './steps';

export const recordTrialImpl = implement(recordTrial, async ({ experiment, objective, trial, metrics, model }, ctx) => {
  const scored = { ...trial, metrics, model };
  const value = objectiveValue(scored, objective);
  const { store } = ctx;
  if (store) {
    // Kiln's run id is the workflow id; a run the worker did not record is not linked.
    const run = await store.runs.getRun(ctx.run.workflowId);
    await store.artifacts.recordArtifact({ kind: model.kind, uri: model.uri, sha256: model.sha256, size: model.size });
    await store.experiments.recordTrial({
      experiment,
      // The map instance, not the trial index: two searches in one run may share an experiment.
      key: `${ctx.run.workflowId}/${ctx.run.node}`,
      status: 'succeeded',
      ...(run ? { runId: run.id } : {}),
      params: trial.params,
      metrics,
      artifactSha256: model.sha256,
    });
  }
  return { trial: scored, objective: { ...objective, value } };
});
