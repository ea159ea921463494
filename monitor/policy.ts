import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { durationMs } from '../dsl/duration';
import { DRIFT_TESTS, type DriftTest } from './drift';

/** A policy file (or value) a monitor cannot run with; the message names the field and the remedy. */
export class MonitorPolicyError extends Error {
  constructor(
    readonly source: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`monitor policy ${source}: ${message}`, options);
    this.name = 'MonitorPolicyError';
  }
}

const duration = (least: number) =>
  z.string().refine((text) => (durationMs(text) ?? -1) >= least, {
    message: `must be a duration of at least ${least / 1000}s, such as '10m', '1h' or '1d'`,
  });

/**
 * A webhook is called by the worker with the report: only http(s), so a policy cannot make the
 * worker read files (`file:`) or speak other protocols.
 */
export const webhookUrl = z.string().superRefine((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: `'${text}' is not a URL; give an http(s) URL such as https://hooks.example.com/kiln`,
    });
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    ctx.addIssue({
      code: 'custom',
      message: `'${url.protocol}' URLs are refused; a webhook is an http: or https: URL`,
    });
  else if (url.username || url.password)
    ctx.addIssue({ code: 'custom', message: 'the URL holds credentials; pass a token in the path or query instead' });
});

const featureOptions = z.strictObject({
  test: z.enum(DRIFT_TESTS as [DriftTest, ...DriftTest[]]).optional(),
  threshold: z.number().positive().optional(),
});

/** What a monitor measures each window and what it does when the model drifts. */
export const monitorPolicy = z.strictObject({
  /** How often a window is measured, and the length of each window. */
  every: duration(1000).default('10m'),
  /** A window with fewer logged rows is reported as insufficientData and acted on not. */
  minRows: z.number().int().positive().default(100),
  /** The share of judged features that must drift for the window to drift (Evidently's 0.5). */
  driftShare: z.number().gt(0).lte(1).default(0.5),
  /**
   * Failed requests over all requests (answered and failed) above this make the window unhealthy,
   * acted on as drift is; judged once the window holds minRows requests, drift or no drift.
   */
  maxErrorRate: z.number().min(0).max(1).optional(),
  /** Per-feature test and threshold, instead of Evidently's defaults. */
  features: z.record(z.string(), featureOptions).optional(),
  actions: z.strictObject({
    alert: z.strictObject({ webhook: webhookUrl }).optional(),
    retrain: z
      .strictObject({
        pipeline: z.string().min(1),
        params: z.record(z.string(), z.unknown()).default({}),
      })
      .optional(),
    rollback: z.boolean().optional(),
  }),
  /** After acting, a new drift episode within this long acts not. */
  cooldown: duration(0).default('1h'),
});
export type MonitorPolicy = z.output<typeof monitorPolicy>;
export type MonitorPolicyInput = z.input<typeof monitorPolicy>;

/** Checks a policy value; the error names each bad field by its path (`actions.alert.webhook`). */
export function checkPolicy(value: unknown, source = '(value)'): MonitorPolicy {
  const parsed = monitorPolicy.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(top)'}: ${i.message}`);
  throw new MonitorPolicyError(source, issues.join('; '));
}

/** Reads a policy from the text of a `.yaml`, `.yml` or `.json` file. */
export function parsePolicy(text: string, file: string): MonitorPolicy {
  if (!/\.(json|ya?ml)$/i.test(file)) throw new MonitorPolicyError(file, 'give a .yaml, .yml or .json file');
  let value: unknown;
  try {
    value = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new MonitorPolicyError(
      file,
      `is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  return checkPolicy(value, file);
}
