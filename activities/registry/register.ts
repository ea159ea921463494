import { FailureTypes } from '../../dsl/failures';
import { ApplicationFailure } from '@temporalio/common';
import { ConflictError } from '../../store/errors';
import { implement } from '../library';
import { loadModel } from '../common/model/model';
import { onnxVersionSignature } from './onnx-signature';
import { cardSources, CARD_PORT, modelCard } from './card';
import { modelSignature } from './signature';
import { requireStore } from '../common/failures';
import { registerModel } from './steps';

export { registerModel } from './steps';

const STEP = 'registry.register';

export const registerModelImpl = implement(registerModel, async (input, ctx) => {
  const store = requireStore(ctx, STEP);
  const { model, report } = input;
  const declared =
    model.kind === 'onnx'
      ? await onnxVersionSignature(ctx.artifacts, model, input.signature, STEP)
      : await loadModel(ctx.artifacts, model.uri).then((spec) => input.signature ?? modelSignature(spec));
  // The version table has no column for the validation report, so the signature document names it.
  const signature = { ...declared, ...(report ? { validationReport: report.uri } : {}) };
  await store.artifacts.recordArtifacts([
    { sha256: model.sha256, kind: model.kind, size: model.size, uri: model.uri },
    ...(report ? [{ sha256: report.sha256, kind: 'report', size: report.size, uri: report.uri }] : []),
  ]);
  // The worker records a run under its workflow id (kept across continue-as-new). A store that does
  // not know the run gets the version without run lineage.
  const runId = ctx.run.workflowId;
  const run = await store.runs.getRun(runId);
  const execution = run ? await store.steps.getStep({ runId, nodeId: ctx.run.node }) : undefined;
  if (!run) ctx.log('the store has no record of this run; registering without run lineage', { runId });
  let registered;
  try {
    // Idempotent per (name, artifact): a retried attempt of this (run, node) gets the version the first one made.
    registered = await store.registry.registerModelVersion({
      model: input.name,
      artifactSha256: model.sha256,
      metrics: input.metrics,
      signature,
      ...(run ? { runId: run.id } : {}),
      ...(execution ? { stepExecutionId: execution.id } : {}),
    });
  } catch (error) {
    if (error instanceof ConflictError)
      throw ApplicationFailure.nonRetryable(`${STEP}: ${error.message}`, FailureTypes.RegistryConflict, {
        model: input.name,
      });
    throw error;
  }
  if (execution) {
    // The card is an output of this step: `kiln card` finds it through the version's registering step.
    const card = await ctx.artifacts.putJson(
      modelCard(await cardSources(store, ctx.artifacts, registered, input.card ?? {}, report?.uri)),
    );
    await store.artifacts.recordArtifacts([{ sha256: card.sha256, kind: 'report', size: card.size, uri: card.uri }]);
    await store.steps.recordLineage(
      { executionId: execution.id },
      {
        inputs: [
          { sha256: model.sha256, port: 'model' },
          ...(report ? [{ sha256: report.sha256, port: 'report' }] : []),
        ],
        outputs: [{ sha256: card.sha256, port: CARD_PORT }],
      },
    );
  }
  ctx.log('registered', { model: input.name, version: registered.version, artifact: model.sha256 });
  return { name: registered.model, version: registered.version };
});
