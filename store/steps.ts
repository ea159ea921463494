import { and, asc, desc, eq, getTableName, inArray, lte, sql } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import type { Failure } from '../dsl/failures';
import type { AccessApi, Principal } from './access';
import { recordArtifactsIn, type ArtifactInput } from './artifacts';
import { ConflictError, NotFoundError } from './errors';
import { rows, sqlLiteral, type Executor, type LiteralRunner } from './executor';
import { copyLineageIn, recordLineageIn, resolveStep, type LineageInput, type StepRef } from './lineage/record';
import { artifacts } from './schema/artifacts';
import { lineageEdges } from './schema/lineage';
import { stepExecutions, type StepExecution, type StepState } from './schema/steps';

export interface StepIdentity {
  runId: string;
  nodeId: string;
  step: { name: string; version: string };
}

export interface StepStart extends StepIdentity {
  /** Temporal's attempt number, from 1; the row keeps the highest seen. */
  attempt?: number;
  cacheKey?: string;
  startedAt?: Date;
}

export interface StepFinish {
  runId: string;
  nodeId: string;
  status: 'succeeded' | 'failed' | 'cancelled' | 'skipped';
  /** Needed only when the step never started (a skipped node). */
  step?: { name: string; version: string };
  attempt?: number;
  output?: unknown;
  error?: Failure;
  finishedAt?: Date;
  /** Recorded in the same transaction as the finish, so a step's outcome and lineage appear together. */
  artifacts?: ArtifactInput[];
  lineage?: LineageInput;
}

export interface CacheHitInput extends StepIdentity {
  cacheKey: string;
  /** The succeeded execution whose result is reused (from lookupCache). */
  from: string;
  at?: Date;
}

export interface CachedResult {
  executionId: string;
  runId: string;
  nodeId: string;
  step: { name: string; version: string };
  output: unknown;
  outputs: Array<{ sha256: string; port: string }>;
  finishedAt: Date | null;
}

const terminal = sql.raw(`('succeeded', 'failed', 'cancelled', 'cached', 'skipped')`);
/**
 * A start that reopens a step which ended without success: a Temporal reset, whose attempts count
 * anew. Only an attempt begun after the end: a start written late (a worker writes a quick step's
 * start with its finish) of the attempt the workflow has since cancelled or failed leaves it ended.
 */
const reopens = sql`(${stepExecutions.status} in ('failed', 'cancelled') and excluded.attempt_started_at > ${stepExecutions.finishedAt})`;

/** A step that started and finished before either was written: both in one write. */
export interface StepRan {
  start: StepStart;
  finish: StepFinish;
}

/** One write of a step's record, for recordSteps. */
export type StepWrite = { start: StepStart } | { finish: StepFinish } | { ran: StepRan };

const written = (w: StepWrite) => ('start' in w ? w.start : 'finish' in w ? w.finish : w.ran.finish);

/** A moment as the statements write it: when given, else now. */
const isoAt = (date: Date | undefined) => (date ?? new Date()).toISOString();

/** A finish's output as JSON text, for a statement that casts it to jsonb. */
const outputText = (finish: StepFinish) => (finish.output === undefined ? null : JSON.stringify(finish.output));

/** The row a start makes: running, its attempt begun when the step began. */
function startedRow(start: StepStart) {
  const at = isoAt(start.startedAt);
  return {
    runId: start.runId,
    nodeId: start.nodeId,
    stepName: start.step.name,
    stepVersion: start.step.version,
    status: 'running' as StepState,
    attempts: start.attempt ?? 1,
    cacheKey: start.cacheKey ?? null,
    startedAt: sql`${at}::timestamptz`,
    attemptStartedAt: sql`${at}::timestamptz`,
  };
}

/** Upserts the starts of distinct nodes in one statement; their rows, in no particular order. */
async function startsIn(db: Executor, starts: readonly StepStart[]): Promise<StepExecution[]> {
  const rows = await db
    .insert(stepExecutions)
    .values(starts.map(startedRow))
    .onConflictDoUpdate({
      target: [stepExecutions.runId, stepExecutions.nodeId],
      set: {
        // A later attempt reopens the step; a replay of an attempt already seen changes nothing.
        status: sql`case when excluded.attempts > ${stepExecutions.attempts} or ${stepExecutions.status} not in ${terminal} or ${reopens} then 'running' else ${stepExecutions.status} end`,
        attemptStartedAt: sql`case when excluded.attempts > ${stepExecutions.attempts} or ${reopens} then excluded.attempt_started_at else ${stepExecutions.attemptStartedAt} end`,
        finishedAt: sql`case when excluded.attempts > ${stepExecutions.attempts} or ${reopens} then null else ${stepExecutions.finishedAt} end`,
        attempts: sql`case when ${reopens} then excluded.attempts else greatest(${stepExecutions.attempts}, excluded.attempts) end`,
        cacheKey: sql`coalesce(excluded.cache_key, ${stepExecutions.cacheKey})`,
      },
    })
    .returning();
  for (const start of starts) {
    const row = rows.find((r) => r.runId === start.runId && r.nodeId === start.nodeId)!;
    if (row.stepName !== start.step.name || row.stepVersion !== start.step.version) {
      throw new ConflictError(
        `node '${start.nodeId}' of run '${start.runId}' is recorded as ${row.stepName}@${row.stepVersion}, not ${start.step.name}@${start.step.version}`,
      );
    }
  }
  return rows;
}

/**
 * Records the finishes of distinct nodes within `tx`: one update for the rows each may write (the
 * rules of recordStepFinish), then their artifacts and lineage; a finish with no such row goes
 * through finishIn, which finds or inserts its row.
 */
async function finishesIn(tx: Executor, finishes: readonly StepFinish[]): Promise<void> {
  const column = (value: (f: StepFinish) => unknown) => sql.param(finishes.map(value));
  const updated = await rows<{ id: string; run_id: string; node_id: string }>(
    tx,
    sql`update ${stepExecutions} s set status = v.status, output = v.output::jsonb, error_type = v.error_type,
        error_message = v.error_message, finished_at = v.finished_at, attempts = greatest(s.attempts, v.attempt)
      from unnest(${column((f) => f.runId)}::text[], ${column((f) => f.nodeId)}::text[], ${column((f) => f.status)}::text[],
        ${column(outputText)}::text[],
        ${column((f) => f.error?.type ?? null)}::text[], ${column((f) => f.error?.message ?? null)}::text[],
        ${column((f) => isoAt(f.finishedAt))}::timestamptz[], ${column((f) => f.attempt ?? 1)}::int[])
        as v(run_id, node_id, status, output, error_type, error_message, finished_at, attempt)
      where s.run_id = v.run_id and s.node_id = v.node_id
        and case when v.status = 'succeeded' then s.status = 'running' and s.attempts <= v.attempt
          else s.status in ('running', 'succeeded') end
      returning s.id, s.run_id, s.node_id`,
  );
  await recordArtifactsIn(
    tx,
    finishes.flatMap((f) => f.artifacts ?? []),
  );
  for (const finish of finishes) {
    const row = updated.find((r) => r.run_id === finish.runId && r.node_id === finish.nodeId);
    if (!row) await finishIn(tx, finish);
    else if (finish.lineage) await recordLineageIn(tx, row.id, finish.lineage);
  }
}

/** The columns of a ran step's row and their types, in the order of ranValues. */
const RAN_COLUMNS = [
  ['id', 'uuid'],
  ['run_id', 'text'],
  ['node_id', 'text'],
  ['step_name', 'text'],
  ['step_version', 'text'],
  ['status', 'text'],
  ['attempts', 'int'],
  ['cache_key', 'text'],
  ['output', 'jsonb'],
  ['error_type', 'text'],
  ['error_message', 'text'],
  ['started_at', 'timestamptz'],
  ['attempt_started_at', 'timestamptz'],
  ['finished_at', 'timestamptz'],
] as const;
const RAN_NAMES = RAN_COLUMNS.map(([name]) => name).join(', ');

const ranValues = ({ start, finish }: StepRan): Array<string | number | null> => [
  randomUUID(),
  start.runId,
  start.nodeId,
  start.step.name,
  start.step.version,
  finish.status,
  Math.max(start.attempt ?? 1, finish.attempt ?? 1),
  start.cacheKey ?? null,
  outputText(finish),
  finish.error?.type ?? null,
  finish.error?.message ?? null,
  isoAt(start.startedAt),
  isoAt(start.startedAt),
  isoAt(finish.finishedAt),
];

/**
 * Inserts the finished rows of steps whose nodes have none; the rows it inserted. One array per
 * column, unnested: a statement of fourteen parameters however many rows, which drizzle builds at
 * once (a VALUES list of a hundred rows took it longer to build than PGlite took to run it).
 */
function insertRans(db: Executor, ran: readonly StepRan[]) {
  const values = ran.map(ranValues);
  const columns = RAN_COLUMNS.map(([, type], i) => sql`${sql.param(values.map((row) => row[i]))}::${sql.raw(type)}[]`);
  return rows<{ id: string; run_id: string; node_id: string }>(
    db,
    sql`insert into ${stepExecutions} (${sql.raw(RAN_NAMES)}) select * from unnest(${sql.join(columns, sql`, `)})
      on conflict (run_id, node_id) do nothing returning id, run_id, node_id`,
  );
}

const nodeKey = (runId: string, nodeId: string) => JSON.stringify([runId, nodeId]);

/** A ran step with no artifacts or lineage: its record is its row alone. */
const bare = ({ finish: { artifacts = [], lineage } }: StepRan) =>
  !artifacts.length && !lineage?.inputs?.length && !lineage?.outputs?.length;

/** insertRans as text with its values written in, or undefined where one cannot be (see sqlLiteral). */
function ransAsLiterals(ran: readonly StepRan[]): string | undefined {
  const rows: string[] = [];
  for (const r of ran) {
    const values = ranValues(r).map(sqlLiteral);
    if (values.includes(undefined)) return undefined;
    rows.push(`(${values.map((v, i) => `${v}::${RAN_COLUMNS[i]![1]}`).join(', ')})`);
  }
  return `insert into ${getTableName(stepExecutions)} (${RAN_NAMES}) values ${rows.join(', ')}
    on conflict (run_id, node_id) do nothing returning id, run_id, node_id`;
}

/**
 * Inserts bare ran steps in one statement, atomic alone: by the simple protocol where the values
 * can be written in, else with parameters. The rows it inserted.
 */
function insertBare(db: Executor, literals: LiteralRunner, ran: readonly StepRan[]) {
  const text = ransAsLiterals(ran);
  return text ? literals<{ run_id: string; node_id: string }>(text) : insertRans(db, ran);
}

/**
 * Records steps that started and finished between two writes. A node with no row yet gets its
 * finished row at once, in one insert for all; one with a row (a retry, a replay) takes the start's
 * rules and then the finish's, as if they were written one after the other.
 */
async function ransIn(tx: Executor, ran: readonly StepRan[]): Promise<void> {
  const inserted = await insertRans(tx, ran);
  await recordArtifactsIn(
    tx,
    ran.flatMap((r) => r.finish.artifacts ?? []),
  );
  for (const { start, finish } of ran) {
    const row = inserted.find((r) => r.run_id === start.runId && r.node_id === start.nodeId);
    if (!row) {
      await startsIn(tx, [start]);
      await finishesIn(tx, [finish]);
    } else if (finish.lineage) await recordLineageIn(tx, row.id, finish.lineage);
  }
}

/** Records a finish within `tx` (see recordStepFinish). */
async function finishIn(tx: Executor, finish: StepFinish): Promise<StepExecution> {
  const at = isoAt(finish.finishedAt);
  const attempt = finish.attempt ?? 1;
  const values = {
    status: finish.status,
    output: finish.output === undefined ? null : finish.output,
    errorType: finish.error?.type ?? null,
    errorMessage: finish.error?.message ?? null,
    finishedAt: sql`${at}::timestamptz`,
    attempts: sql`greatest(${stepExecutions.attempts}, ${attempt})`,
  };
  const node = and(eq(stepExecutions.runId, finish.runId), eq(stepExecutions.nodeId, finish.nodeId));
  const writable =
    finish.status === 'succeeded'
      ? and(eq(stepExecutions.status, 'running'), lte(stepExecutions.attempts, attempt))
      : inArray(stepExecutions.status, ['running', 'succeeded']);
  let [row] = await tx.update(stepExecutions).set(values).where(and(node, writable)).returning();
  if (!row) {
    const [existing] = await tx.select().from(stepExecutions).where(node);
    if (existing) return existing;
    if (!finish.step)
      throw new NotFoundError(
        'step execution',
        `${finish.runId}/${finish.nodeId}`,
        'record its start first, or pass `step` for a node that never started',
      );
    [row] = await tx
      .insert(stepExecutions)
      .values({
        runId: finish.runId,
        nodeId: finish.nodeId,
        stepName: finish.step.name,
        stepVersion: finish.step.version,
        status: finish.status,
        attempts: Math.max(attempt, 1),
        output: values.output,
        errorType: values.errorType,
        errorMessage: values.errorMessage,
        startedAt: sql`${at}::timestamptz`,
        attemptStartedAt: sql`${at}::timestamptz`,
        finishedAt: sql`${at}::timestamptz`,
      })
      .returning();
  }
  await recordArtifactsIn(tx, finish.artifacts ?? []);
  if (finish.lineage) await recordLineageIn(tx, row!.id, finish.lineage);
  return row!;
}

export const stepsApi = (db: Executor, access: Pick<AccessApi, 'authorize'>, literals: LiteralRunner) => ({
  /**
   * Records an attempt of a step. One row per (run, node) whatever the number of attempts or
   * replays: `attempts` is the highest attempt seen; `started_at` stays the first start.
   */
  async recordStepStart(actor: Principal, start: StepStart): Promise<StepExecution> {
    await access.authorize(actor, 'record', `run:${start.runId}/${start.nodeId}`);
    const [row] = await startsIn(db, [start]);
    return row!;
  },

  /**
   * Records a step's outcome, with its artifacts and lineage, in one transaction. Two writers:
   * - the activity records `succeeded`, only onto its own running attempt: a stale attempt (one a
   *   later attempt reopened, or one finishing after the workflow gave up on it) changes nothing;
   * - the workflow records `failed`, `cancelled` or `skipped`, its final word: it wins over a
   *   running or succeeded row (a success whose completion Temporal never got), and over nothing else.
   * Repeating either is a no-op.
   */
  async recordStepFinish(actor: Principal, finish: StepFinish): Promise<StepExecution> {
    await access.authorize(actor, 'record', `run:${finish.runId}/${finish.nodeId}`);
    return db.transaction((tx) => finishIn(tx, finish));
  },

  /**
   * Records a step that started and finished before either was written: one insert when its node
   * has no row and it has no artifacts or lineage to go with it, else ransIn's rules in one transaction.
   */
  async recordStepRan(actor: Principal, ran: StepRan): Promise<void> {
    await access.authorize(actor, 'record', `run:${ran.start.runId}/${ran.start.nodeId}`);
    if (bare(ran) && (await insertBare(db, literals, [ran])).length) return;
    await db.transaction((tx) => ransIn(tx, [ran]));
  },

  /**
   * Records several starts and finishes in one transaction, in order, with the meaning each has
   * alone: what a worker's concurrent steps write at once (workers/step-writes.ts). All or none: a
   * caller that needs each write's own error records them one by one after a failure. Except: a
   * batch of bare ran steps only (a fan-out's quick steps) is first one insert, atomic alone, and
   * the nodes that already had rows then take ransIn's rules in a transaction of their own. Every
   * write is idempotent, so writing them again one by one after a failure doubles nothing.
   */
  async recordSteps(actor: Principal, batch: readonly StepWrite[]): Promise<void> {
    for (const w of batch) {
      const { runId, nodeId } = written(w);
      await access.authorize(actor, 'record', `run:${runId}/${nodeId}`);
    }
    let writes = batch;
    const quick = batch.flatMap((w) => ('ran' in w && bare(w.ran) ? [w.ran] : []));
    const nodes = new Set(quick.map((r) => nodeKey(r.start.runId, r.start.nodeId)));
    // (A node twice in the batch takes the transaction: its second write goes by the rules.)
    if (quick.length === batch.length && nodes.size === quick.length) {
      const inserted = new Set((await insertBare(db, literals, quick)).map((r) => nodeKey(r.run_id, r.node_id)));
      writes = quick.filter((r) => !inserted.has(nodeKey(r.start.runId, r.start.nodeId))).map((ran) => ({ ran }));
      if (!writes.length) return;
    }
    await db.transaction(async (tx) => {
      // Consecutive writes of one kind for distinct nodes go in one statement (an upsert may touch a row once).
      // One group is open at a time: a write of another kind, or of a node already in it, closes it.
      let starts: StepStart[] = [];
      let finishes: StepFinish[] = [];
      let rans: StepRan[] = [];
      const seen = new Set<string>();
      const flush = async () => {
        if (starts.length) await startsIn(tx, starts);
        if (finishes.length) await finishesIn(tx, finishes);
        if (rans.length) await ransIn(tx, rans);
        [starts, finishes, rans] = [[], [], []];
        seen.clear();
      };
      for (const w of writes) {
        const { runId, nodeId } = written(w);
        const key = nodeKey(runId, nodeId);
        const open = 'start' in w ? starts : 'finish' in w ? finishes : rans;
        if ((seen.size && !open.length) || seen.has(key)) await flush();
        seen.add(key);
        if ('start' in w) starts.push(w.start);
        else if ('finish' in w) finishes.push(w.finish);
        else rans.push(w.ran);
      }
      await flush();
    });
  },

  /** Records lineage for a step execution (idempotent). Artifacts must be recorded first. */
  async recordLineage(actor: Principal, step: StepRef, lineage: LineageInput): Promise<void> {
    await access.authorize(actor, 'record', 'lineage');
    await db.transaction(async (tx) => recordLineageIn(tx, await resolveStep(tx, step), lineage));
  },

  /** The newest succeeded execution recorded under `cacheKey`, with its output and output artifacts. */
  async lookupCache(actor: Principal, key: string): Promise<CachedResult | undefined> {
    await access.authorize(actor, 'read', `cache:${key}`);
    const [hit] = await db
      .select()
      .from(stepExecutions)
      .where(
        and(
          eq(stepExecutions.cacheKey, key),
          eq(stepExecutions.status, 'succeeded'),
          // A result whose output content retention deleted (kiln gc) is no result.
          sql`not exists (select 1 from ${lineageEdges} join ${artifacts} on ${artifacts.sha256} = ${lineageEdges.artifactSha256}
            where ${lineageEdges.stepExecutionId} = ${stepExecutions.id} and ${lineageEdges.direction} = 'output'
              and ${artifacts.contentDeletedAt} is not null)`,
        ),
      )
      .orderBy(desc(stepExecutions.finishedAt))
      .limit(1);
    if (!hit) return undefined;
    const outputs = await db
      .select({ sha256: lineageEdges.artifactSha256, port: lineageEdges.port })
      .from(lineageEdges)
      .where(and(eq(lineageEdges.stepExecutionId, hit.id), eq(lineageEdges.direction, 'output')))
      .orderBy(asc(lineageEdges.port));
    return {
      executionId: hit.id,
      runId: hit.runId,
      nodeId: hit.nodeId,
      step: { name: hit.stepName, version: hit.stepVersion },
      output: hit.output,
      outputs,
      finishedAt: hit.finishedAt,
    };
  },

  /**
   * Records that a node reused a cached result: status `cached`, `cached_from` the original, its
   * output and lineage copied, so status and lineage both show the hit. Idempotent.
   */
  async recordCacheHit(actor: Principal, hit: CacheHitInput): Promise<StepExecution> {
    await access.authorize(actor, 'record', `run:${hit.runId}/${hit.nodeId}`);
    const at = isoAt(hit.at);
    return db.transaction(async (tx) => {
      const [source] = await tx.select().from(stepExecutions).where(eq(stepExecutions.id, hit.from));
      if (!source) throw new NotFoundError('step execution', hit.from);
      if (source.status !== 'succeeded')
        throw new ConflictError(
          `step execution ${hit.from} is ${source.status}; only a succeeded execution can be reused`,
        );
      const [row] = await tx
        .insert(stepExecutions)
        .values({
          runId: hit.runId,
          nodeId: hit.nodeId,
          stepName: hit.step.name,
          stepVersion: hit.step.version,
          status: 'cached',
          attempts: 1,
          cacheKey: hit.cacheKey,
          cachedFrom: source.id,
          output: source.output,
          startedAt: sql`${at}::timestamptz`,
          attemptStartedAt: sql`${at}::timestamptz`,
          finishedAt: sql`${at}::timestamptz`,
        })
        .onConflictDoUpdate({
          target: [stepExecutions.runId, stepExecutions.nodeId],
          set: {
            status: 'cached',
            cachedFrom: source.id,
            cacheKey: hit.cacheKey,
            output: sql`excluded.output`,
            finishedAt: sql`coalesce(${stepExecutions.finishedAt}, excluded.finished_at)`,
          },
        })
        .returning();
      await copyLineageIn(tx, source.id, row!.id);
      return row!;
    });
  },

  async getStep(actor: Principal, ref: StepRef): Promise<StepExecution | undefined> {
    await access.authorize(
      actor,
      'read',
      'executionId' in ref ? `step:${ref.executionId}` : `run:${ref.runId}/${ref.nodeId}`,
    );
    const where =
      'executionId' in ref
        ? eq(stepExecutions.id, ref.executionId)
        : and(eq(stepExecutions.runId, ref.runId), eq(stepExecutions.nodeId, ref.nodeId));
    const [row] = await db.select().from(stepExecutions).where(where);
    return row;
  },

  /** A run's steps in the order they started. */
  async listSteps(actor: Principal, runId: string): Promise<StepExecution[]> {
    await access.authorize(actor, 'read', `run:${runId}`);
    return db
      .select()
      .from(stepExecutions)
      .where(eq(stepExecutions.runId, runId))
      .orderBy(asc(stepExecutions.startedAt), asc(stepExecutions.nodeId));
  },
});
export type StepsApi = ReturnType<typeof stepsApi>;
export type { StepState };
