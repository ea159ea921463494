import { z } from 'zod';
import { defineStep } from '../../dsl';
import { metricGate } from './gate-schema';

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
  options: { startToCloseTimeout: '1m', retry: { maximumAttempts: 1 } },
});
