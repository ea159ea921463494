import { z } from 'zod';

// Gate declarations as pipelines write them. Node-free: pipelines and workflows import this file.

const metricName = z
  .string()
  .regex(
    /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/,
    'a metric name is snake_case words, optionally prefixed, such as roc_auc or sex.demographic_parity_difference',
  )
  .describe('a key of the metrics the evaluate step reports');

/** A threshold on one metric: the run stops unless min <= value <= max. */
export const metricGate = z
  .object({
    metric: metricName,
    min: z.number().finite().optional(),
    max: z.number().finite().optional(),
  })
  .refine((g) => g.min !== undefined || g.max !== undefined, {
    message: 'a gate needs a min, a max or both',
    path: ['min'],
  })
  .refine((g) => g.min === undefined || g.max === undefined || g.min <= g.max, {
    message: 'min must not exceed max',
    path: ['max'],
  });
export type MetricGate = z.infer<typeof metricGate>;

/** Champion/challenger: the new model may be worse than the aliased version by at most `margin`. */
export const championRule = z.object({
  metric: metricName,
  higherIsBetter: z.boolean(),
  margin: z.number().finite().nonnegative().default(0),
  /** The alias whose version is the champion. */
  alias: z.string().min(1).default('production'),
});
export type ChampionRule = z.infer<typeof championRule>;

/** Every gate a validation step declares. */
export const gateDeclaration = z.object({
  thresholds: z.array(metricGate).default([]),
  champion: championRule.optional(),
});
export type GateDeclaration = z.infer<typeof gateDeclaration>;
