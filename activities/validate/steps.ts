import { z } from 'zod';
import { defineStep } from '../../dsl';
import { datasetRef, modelRef } from '../refs';
import { metricGate } from '../common/gates/schema';

/**
 * Stops the run unless every metric clears its bar; metric names may be written camelCase
 * (rocAuc) or snake_case (roc_auc).
 * @example p.step(checkGates, { metrics: heldOut.metrics, gates: [{ metric: 'roc_auc', min: 0.75 }] });
 */
export const checkGates = defineStep({
  name: 'validate.gates',
  version: '1',
  description: 'A gate: fail the run, naming metric, value and bar, unless every threshold holds',
  input: z.object({ metrics: z.record(z.string(), z.number()), gates: z.array(metricGate).min(1) }),
  output: z.object({
    outcomes: z.array(
      z.object({
        metric: z.string(),
        value: z.number(),
        min: z.number().optional(),
        max: z.number().optional(),
        passed: z.boolean(),
      }),
    ),
  }),
  // Light: a comparison of a few numbers runs in the workflow's worker, without a task-queue round trip.
  options: { startToCloseTimeout: '1m', retry: { maximumAttempts: 1 }, light: true },
});

/** The classification metrics a champion comparison may use, and which way each is better. */
export const championMetric = z.enum(['roc_auc', 'accuracy', 'precision', 'recall', 'f1', 'log_loss']);

/**
 * Champion/challenger on one holdout: scores the challenger and the model the alias points at on
 * the same rows, and fails (GateFailed, naming both values and the margin) when the challenger is
 * worse by more than `margin`. Passes, saying so, when the alias has no version yet.
 * @example p.step(validateChampion, { model: trained.model, dataset: split.test, registeredName: 'credit-risk', margin: 0.01 });
 */
export const validateChampion = defineStep({
  name: 'validate.champion',
  version: '1',
  description:
    'Champion/challenger: the new model may be worse than the aliased version by at most a margin, on the same holdout',
  input: z.object({
    model: modelRef,
    dataset: datasetRef,
    registeredName: z.string().min(1),
    alias: z.string().min(1).default('production'),
    metric: championMetric.default('roc_auc'),
    margin: z.number().finite().nonnegative().default(0),
  }),
  output: z.object({
    passed: z.boolean(),
    metric: z.string(),
    challenger: z.number(),
    champion: z.object({ version: z.number().int(), sha256: z.string(), value: z.number() }).nullable(),
    margin: z.number(),
    bar: z.number().nullable(),
    message: z.string(),
  }),
  // Not cached: the champion is whatever the alias points at when the step runs.
  options: { startToCloseTimeout: '30m', heartbeatTimeout: '1m', cache: false },
});
