import { z } from 'zod';
import { defineStep } from '../../dsl';
import { approvalDecision } from '../refs';

// Definitions only: pipelines import these. The rollout itself is a workflow (workflows/rollout.ts)
// calling the activities in rollout.ts.

const duration = z
  .string()
  .regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/, "a duration such as '30s', '10m' or '2h'")
  .describe('a duration such as 10m');

/** A bar the candidate must stay under while it takes traffic; a check over the bar rolls it back. */
export const rolloutGate = z.discriminatedUnion('metric', [
  z.object({ metric: z.literal('p99LatencyMs'), max: z.number().positive() }),
  z.object({
    metric: z.literal('errorRate'),
    max: z
      .number()
      .min(0)
      .max(1)
      .describe("the share of the candidate's requests that failed (a 500, or a shadow that threw), 0 to 1"),
  }),
  z.object({
    metric: z.literal('predictionPsi'),
    max: z.number().positive().describe("PSI of the candidate's predicted probabilities against the current version's"),
  }),
]);
export type RolloutGate = z.infer<typeof rolloutGate>;

const observed = {
  window: duration.describe('how long the candidate is watched before it is promoted'),
  checkEvery: duration.optional().describe('how often the gates are checked; a fifth of the window by default'),
  minRequests: z
    .number()
    .int()
    .positive()
    .default(20)
    .describe('requests the candidate must answer before it can be judged; fewer by the end rolls it back'),
  gates: z.array(rolloutGate).default([]),
};

/** How a version reaches traffic: at once, a share of requests first, or mirrored requests first. */
export const rolloutStrategy = z.union([
  z.object({ direct: z.object({}).strict() }).strict(),
  z.object({ canary: z.object({ percent: z.number().int().min(1).max(99), ...observed }).strict() }).strict(),
  z.object({ shadow: z.object(observed).strict() }).strict(),
]);
export type RolloutStrategy = z.infer<typeof rolloutStrategy>;

/**
 * Rolls a registered version out behind a served alias: directly, or as a canary or shadow that is
 * watched for a window and then promoted, or rolled back by itself when a gate fails. Runs as a
 * durable child workflow; `kiln deploy promote|abort` decide by hand.
 * @example p.step(deploy, { name: 'credit-risk', version: registered.version, approval: release,
 *   strategy: { canary: { percent: 10, window: '10m', gates: [{ metric: 'p99LatencyMs', max: 50 }] } } });
 */
export const deploy = defineStep({
  name: 'deploy.rollout',
  version: '1',
  description: 'Canary, shadow or direct rollout of a model version behind a served alias',
  workflow: 'rollout',
  input: z.object({
    name: z.string().min(1),
    version: z.number().int().positive(),
    alias: z.string().min(1).default('production'),
    strategy: rolloutStrategy,
    approval: approvalDecision.describe(
      "the p.approval gate's decision; the alias moves as that approver, when the store has the decision on record",
    ),
  }),
  approvalInputs: ['approval'],
  output: z.object({
    name: z.string(),
    alias: z.string(),
    version: z.number().int().positive(),
    previous: z.number().int().nullable(),
    decision: z.enum(['promoted', 'promoted by hand']),
    reason: z.string().describe('why: every gate held for the window, nothing served yet, or who promoted it'),
    by: z.string(),
  }),
  options: { cache: false },
});
