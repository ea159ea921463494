import { ApplicationFailure } from '@temporalio/common';
import { NotFoundError } from '../../store/errors';
import { implement } from '../library';
import { artifactUri } from '../refs';
import { requireStore } from '../common/failures';
import { loadModel, type ModelSpec } from '../common/model/model';
import { compareChampion } from '../common/gates/judge';
import { binaryMetrics, multiclassMetrics } from '../common/metrics/classification';
import { labelledRows, requireEveryClass, scoreRows } from '../common/model/scored-rows';
import { validateChampion } from './steps';

export { championMetric, validateChampion } from './steps';

const STEP = 'validate.champion';

/** Every classification metric of a model on labelled rows, under snake_case names. */
function holdoutMetrics(
  model: ModelSpec,
  rows: Parameters<typeof scoreRows>[1],
  labels: number[],
): Record<string, number> {
  const proba = scoreRows(model, rows, STEP);
  const m =
    model.task === 'binary'
      ? binaryMetrics(
          labels,
          proba.map((p) => p[1]!),
        )
      : multiclassMetrics(labels, proba);
  return {
    roc_auc: m.rocAuc,
    accuracy: m.accuracy,
    precision: m.precision,
    recall: m.recall,
    f1: m.f1,
    log_loss: m.logLoss,
  };
}

export const validateChampionImpl = implement(validateChampion, async (input, ctx) => {
  const store = requireStore(ctx, STEP);
  const { registeredName: name, alias, metric, margin } = input;
  const higherIsBetter = metric !== 'log_loss';
  const challengerModel = await loadModel(ctx.artifacts, input.model.uri);
  const { rows, labels } = await labelledRows(ctx.artifacts, challengerModel, input.dataset, STEP);
  requireEveryClass(challengerModel, labels, STEP);
  const challenger = holdoutMetrics(challengerModel, rows, labels);
  ctx.heartbeat({ scored: 'challenger' });

  let holder;
  try {
    holder = await store.registry.getModelVersion(name, alias);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    const outcome = compareChampion(challenger, null, { metric, higherIsBetter, margin });
    const message = `no version of '${name}' holds the alias '${alias}' yet, so there is no champion to beat; the challenger passes with ${metric} ${outcome.challenger.toFixed(4)}`;
    ctx.log(message, { metric, challenger: outcome.challenger });
    return { passed: true, metric, challenger: outcome.challenger, champion: null, margin, bar: null, message };
  }

  const uri = artifactUri(holder.artifactSha256);
  if (!(await ctx.artifacts.has(uri))) {
    throw ApplicationFailure.nonRetryable(
      `${STEP}: the champion ${name}@${holder.version} (alias '${alias}') is artifact ${holder.artifactSha256.slice(0, 12)}, which this worker's artifact store does not hold; run the worker with the artifact directory the champion was trained into`,
      'ChampionUnavailable',
      { model: name, version: holder.version, sha256: holder.artifactSha256 },
    );
  }
  const championModel = await loadModel(ctx.artifacts, uri);
  if (
    championModel.label !== challengerModel.label ||
    championModel.classes.join('\u0000') !== challengerModel.classes.join('\u0000')
  ) {
    throw ApplicationFailure.nonRetryable(
      `${STEP}: the champion ${name}@${holder.version} predicts '${championModel.label}' over ${championModel.classes.join(', ')} but the challenger predicts '${challengerModel.label}' over ${challengerModel.classes.join(', ')}; they cannot be compared on one holdout`,
      'GateInvalid',
      { model: name, version: holder.version },
    );
  }
  const champion = holdoutMetrics(championModel, rows, labels);
  // compareChampion throws the non-retryable GateFailed naming both values and the margin.
  const outcome = compareChampion(challenger, champion, { metric, higherIsBetter, margin });
  const message = `${metric} ${outcome.challenger.toFixed(4)} of the challenger against ${outcome.champion!.toFixed(4)} of the champion ${name}@${holder.version} (alias '${alias}'), margin ${margin}: passed`;
  ctx.log(message, { metric, challenger: outcome.challenger, champion: outcome.champion, margin });
  return {
    passed: true,
    metric,
    challenger: outcome.challenger,
    champion: { version: holder.version, sha256: holder.artifactSha256, value: outcome.champion! },
    margin,
    bar: outcome.bar,
    message,
  };
});
