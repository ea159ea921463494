import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleHandle,
  type ScheduleOverlapPolicy,
  type ScheduleSpec,
} from '@temporalio/client';
import { CronExpressionParser } from 'cron-parser';
import { access } from 'node:fs/promises';
import { durationMs, validatePlan, type PipelinePlan } from '../dsl';
import { DURATION_HINT } from '../dsl/duration';
import type { Principal, Store } from '../store';
import { appendAuditIn } from '../store/audit';
import { runPipeline } from '../workflows';
import type { RunInput } from '../workflows/protocol';
import { loadPlan } from './load-pipeline';
import { checkParams } from './params';

/** Input that makes no schedule: a bad name, cron expression, interval, window or pipeline; the message says which. */
export class ScheduleInputError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ScheduleInputError';
  }
}

/** The overlap policies `--overlap` accepts, as Temporal names them. */
export const overlapPolicies = {
  skip: 'SKIP',
  'buffer-one': 'BUFFER_ONE',
  'cancel-other': 'CANCEL_OTHER',
  'allow-all': 'ALLOW_ALL',
} as const satisfies Record<string, ScheduleOverlapPolicy>;
export type OverlapName = keyof typeof overlapPolicies;

const NAME = /^[a-z0-9][a-z0-9_-]*$/i;
const MAX_NAME = 63;

/**
 * A schedule's name is its Temporal Schedule id and the prefix of its runs' ids, so it stays
 * plain: letters, digits, '-' and '_', no path or shell characters, at most 63 long.
 */
export function checkScheduleName(name: string | undefined): string {
  if (!name) throw new ScheduleInputError('which schedule? give its name, e.g. nightly-credit');
  if (name.length > MAX_NAME)
    throw new ScheduleInputError(
      `schedule name '${name.slice(0, 20)}…' is ${name.length} characters long; the limit is ${MAX_NAME}`,
    );
  if (!NAME.test(name))
    throw new ScheduleInputError(
      `schedule name ${JSON.stringify(name)} may hold only letters, digits, '-' and '_', starting with a letter or digit (e.g. nightly-credit)`,
    );
  return name;
}

const CRON_MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/** Checks a five-field cron expression (minute hour day-of-month month day-of-week) or a macro such as @daily. */
export function checkCron(expression: string): string {
  const text = expression.trim();
  const fields = text.split(/\s+/);
  if (!CRON_MACROS.has(text) && fields.length !== 5)
    throw new ScheduleInputError(
      `cron expression '${expression}' has ${fields.length} field(s); write five (minute hour day-of-month month day-of-week, e.g. '0 2 * * *') or a macro such as @daily`,
    );
  try {
    CronExpressionParser.parse(text, { strict: false });
  } catch (error) {
    throw new ScheduleInputError(`cron expression '${expression}' is invalid: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return text;
}

function checkDuration(flag: string, text: string, least: number): number {
  const ms = durationMs(text);
  if (ms === undefined) throw new ScheduleInputError(`${flag} '${text}' is not a duration: ${DURATION_HINT}`);
  if (ms < least) throw new ScheduleInputError(`${flag} '${text}' is too short: at least ${least / 1000}s`);
  return ms;
}

/** The Temporal overlap policy of an --overlap name. */
export function checkOverlap(name: string | undefined): ScheduleOverlapPolicy | undefined {
  if (name === undefined) return undefined;
  if (!(name in overlapPolicies))
    throw new ScheduleInputError(
      `--overlap '${name}' is not a policy; use one of ${Object.keys(overlapPolicies).join(', ')}`,
    );
  return overlapPolicies[name as OverlapName];
}

/** When a schedule fires: cron expressions and/or intervals, with optional jitter. */
export interface ScheduleTiming {
  cron?: string[];
  every?: string[];
  jitter?: string;
}

/** The Temporal spec of a timing, every part checked; intervals and jitter in milliseconds. */
export function scheduleSpec(
  timing: ScheduleTiming,
): ScheduleSpec & { cronExpressions?: string[]; intervals?: Array<{ every: number }>; jitter?: number } {
  const cronExpressions = (timing.cron ?? []).map(checkCron);
  const intervals = (timing.every ?? []).map((every) => ({ every: checkDuration('--every', every, 1000) }));
  if (cronExpressions.length + intervals.length === 0)
    throw new ScheduleInputError("when should it run? add --cron '0 2 * * *' or --every 1h");
  return {
    ...(cronExpressions.length ? { cronExpressions } : {}),
    ...(intervals.length ? { intervals } : {}),
    ...(timing.jitter !== undefined ? { jitter: checkDuration('--jitter', timing.jitter, 0) } : {}),
  };
}

/** Compiles (or reads) and validates the plan a schedule will run, with its parameters checked. */
export async function schedulePlan(
  file: string,
  given: Record<string, unknown>,
): Promise<{ plan: PipelinePlan; params: Record<string, unknown> }> {
  try {
    await access(file);
  } catch (error) {
    throw new ScheduleInputError(`pipeline file '${file}' cannot be read: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const { plan, pipeline } = await loadPlan(file);
  validatePlan(plan);
  return { plan, params: pipeline ? checkParams(pipeline, given) : given };
}

export interface ScheduleRequest {
  name: string;
  plan: PipelinePlan;
  params: Record<string, unknown>;
  timing: ScheduleTiming;
  overlap?: ScheduleOverlapPolicy;
  paused?: boolean;
  /** Who created it, kept in the schedule's memo. */
  by: string;
}

/** Creates the Temporal Schedule that starts runPipeline with the plan on the Kiln task queue. */
export async function createSchedule(client: Client, taskQueue: string, request: ScheduleRequest) {
  const input: RunInput = { plan: request.plan, params: request.params, options: {}, schedule: request.name };
  const spec = scheduleSpec(request.timing);
  try {
    return await client.schedule.create({
      scheduleId: request.name,
      spec,
      action: {
        type: 'startWorkflow',
        workflowType: runPipeline,
        taskQueue,
        // Temporal appends the time each run is due, so every run id is new: <name>-<RFC 3339 time>.
        workflowId: request.name,
        args: [input],
        memo: { pipeline: request.plan.name, planHash: request.plan.hash, schedule: request.name },
        staticSummary: `Kiln pipeline ${request.plan.name} (plan ${request.plan.hash.slice(0, 12)}), schedule ${request.name}`,
      },
      policies: { ...(request.overlap ? { overlap: request.overlap } : {}) },
      memo: { pipeline: request.plan.name, planHash: request.plan.hash, by: request.by },
      state: { paused: Boolean(request.paused), note: `created by ${request.by}` },
    });
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning)
      throw new ScheduleInputError(
        `schedule '${request.name}' exists already; delete it first (kiln schedule delete ${request.name}) or pick another name`,
        { cause: error },
      );
    throw error;
  }
}

/** A handle on an existing schedule; a missing one is named in the error. */
async function existing(client: Client, name: string): Promise<{ handle: ScheduleHandle; found: ScheduleDescription }> {
  const handle = client.schedule.getHandle(checkScheduleName(name));
  try {
    return { handle, found: await handle.describe() };
  } catch (error) {
    if (error instanceof ScheduleNotFoundError)
      throw new ScheduleInputError(`no schedule named '${name}'; see kiln schedule list`, { cause: error });
    throw error;
  }
}

export const describeSchedule = async (client: Client, name: string) => (await existing(client, name)).found;

/** Every schedule in the namespace that starts Kiln runs. */
export async function listSchedules(client: Client) {
  const found = [];
  for await (const s of client.schedule.list()) if (s.action?.workflowType === runPipeline.name) found.push(s);
  return found.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

/** A change to an existing schedule, as `kiln schedule` names it. */
export type ScheduleChange =
  | { kind: 'pause' | 'unpause'; note?: string }
  | { kind: 'trigger'; overlap?: ScheduleOverlapPolicy }
  | { kind: 'backfill'; from: Date; to: Date; overlap?: ScheduleOverlapPolicy }
  | { kind: 'delete' };

/** Parses a --from/--to time: ISO 8601 (2026-11-30T02:00:00Z), or a date (UTC midnight). */
export function parseTime(flag: string, text: string | undefined): Date {
  if (!text) throw new ScheduleInputError(`${flag} is required, e.g. ${flag} 2026-11-01T00:00:00Z`);
  const at = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(at.getTime()))
    throw new ScheduleInputError(`${flag} '${text}' is not an ISO 8601 time such as 2026-11-01T00:00:00Z`);
  return at;
}

export async function changeSchedule(client: Client, name: string, change: ScheduleChange): Promise<void> {
  const { handle } = await existing(client, name);
  switch (change.kind) {
    case 'pause':
      return handle.pause(change.note);
    case 'unpause':
      return handle.unpause(change.note);
    case 'trigger':
      return handle.trigger(change.overlap);
    case 'backfill':
      if (change.to <= change.from)
        throw new ScheduleInputError(
          `--to ${change.to.toISOString()} is not after --from ${change.from.toISOString()}; the window is empty`,
        );
      return handle.backfill({
        start: change.from,
        end: change.to,
        ...(change.overlap ? { overlap: change.overlap } : {}),
      });
    case 'delete':
      return handle.delete();
  }
}

/**
 * Every store call `kiln schedule` makes: the caller's role is checked first (a refusal is
 * audited by the store), the work is done, then the change is audited in the caller's name.
 * Reading needs `read` and is not audited; every change needs `schedule.manage`.
 */
export async function governed<T>(
  store: Store,
  actor: Principal,
  what: { action: 'read' | 'create' | ScheduleChange['kind']; schedule: string; after?: unknown },
  work: () => Promise<T>,
): Promise<T> {
  const subject = `schedule:${what.schedule}`;
  await store.access.authorize(actor, what.action === 'read' ? 'read' : 'schedule.manage', subject);
  const result = await work();
  if (what.action !== 'read')
    // The change is made in Temporal, outside any store transaction: it goes on record right after.
    await store.db.transaction((tx) =>
      appendAuditIn(tx, { actor: actor.name, action: `schedule.${what.action}`, subject, after: what.after ?? null }),
    );
  return result;
}
