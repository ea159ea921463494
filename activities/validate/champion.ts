import { ApplicationFailure } from '@temporalio/common';
import { NotFoundError } from '../../store/errors';
import { implement } from '../library';
import { artifactUri } from '../refs';
import { requireStore } from '../common/failures';
import { loadModel, type ModelSpec } from '../common/model/model';
import { compareChampion } from '../common/gates/judge';
import { binaryMetrics, multiclassMetrics } from '../common/metrics/classification';
import type { ColumnarDataset } from '../common/dataset/dataset';
import { labelledColumns, readColumns, requireEveryClass, scoreColumns } from '../common/model/scored-rows';
import type { StepContext } from '../library';
import type { DatasetRef } from '../refs';
import { validateChampion } from './steps';

export { championMetric, validateChampion } from './steps';

const STEP = 'validate.champion';

/** Every classification metric of a model on the labelled columns, under snake_case names. */
function holdoutMetrics(model: ModelSpec, data: ColumnarDataset, labels: number[]): Record<string, number> {
  const proba = scoreColumns(model, data, STEP);
  const width = model.task === 'binary' ? 2 : model.classes.length;
  const m =
    model.task === 'binary'
      ? binaryMetrics(
          labels,
          Array.from(labels, (_, i) => proba[2 * i + 1]!),
        )
      : multiclassMetrics(
          labels,
          Array.from(labels, (_, i) => Array.from(proba.subarray(i * width, (i + 1) * width))),
        );
  return {
    roc_auc: m.rocAuc,
    accuracy: m.accuracy,
    precision: m.precision,
    recall: m.recall,
    f1: m.f1,
    log_loss: m.logLoss,
  };
}

/** The columns with those of the model's features the dataset has and they lack, read now. */
async function withFeatures(
  artifacts: StepContext['artifacts'],
  model: ModelSpec,
  dataset: DatasetRef,
  data: ColumnarDataset,
): Promise<ColumnarDataset> {
  const present = new Set(dataset.columns.map((c) => c.name));
  const lacking = [...new Set(model.transform.spec.features.map((f) => f.name))].filter(
    (name) => present.has(name) && !data.values.has(name),
  );
  if (lacking.length === 0) return data;
  const more = await readColumns(artifacts, dataset, lacking);
  return {
    columns: [...data.columns, ...more.columns],
    rows: data.rows,
    values: new Map([...data.values, ...more.values]),
  };
}

export const validateChampionImpl = implement(validateChampion, async (input, ctx) => {
  const store = requireStore(ctx, STEP);
  const { registeredName: name, alias, metric, margin } = input;
  const higherIsBetter = metric !== 'log_loss';
  const challengerModel = await loadModel(ctx.artifacts, input.model.uri);
  const { data, labels } = await labelledColumns(ctx.artifacts, challengerModel, input.dataset, STEP);
  requireEveryClass(challengerModel, labels, STEP);
  const challenger = holdoutMetrics(challengerModel, data, labels);
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
  // The champion may read features the challenger does not.
  const championData = await withFeatures(ctx.artifacts, championModel, input.dataset, data);
  const champion = holdoutMetrics(championModel, championData, labels);
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
