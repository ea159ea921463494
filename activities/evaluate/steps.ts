import { z } from 'zod';
import { defineStep } from '../../dsl';
import { datasetRef, modelRef, reportRef } from '../refs';

// Definitions only (zod, dsl, refs): pipelines import these; the implementation is in evaluate.ts.

export const classificationMetrics = z.object({
  accuracy: z.number(),
  precision: z.number(),
  recall: z.number(),
  f1: z.number(),
  rocAuc: z.number(),
  logLoss: z.number(),
  rows: z.number().int().positive(),
});

/**
 * Scores a classifier on a dataset: accuracy, precision, recall and F1 at 0.5 (macro-averaged
 * over classes for multiclass), ROC AUC (one-vs-rest macro for multiclass), log loss; the ROC
 * points and confusion matrix go to a report artifact.
 * @example const evaluation = p.step(evaluateClassifier, { model: trained.model, dataset: split.test });
 */
export const evaluateClassifier = defineStep({
  name: 'evaluate.classifier',
  version: '1',
  description: 'Score a classifier on held-out data; metrics plus a JSON report with ROC curve and confusion matrix',
  input: z.object({ model: modelRef, dataset: datasetRef }),
  output: z.object({ metrics: classificationMetrics, report: reportRef }),
  options: { startToCloseTimeout: '30m', heartbeatTimeout: '1m' },
});
