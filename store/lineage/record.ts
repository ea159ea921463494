import { and, eq, sql } from 'drizzle-orm';
import { NotFoundError, ConflictError } from '../errors';
import { pgErrorCode, type Executor } from '../executor';
import { lineageEdges } from '../schema/lineage';
import { stepExecutions } from '../schema/steps';

/** An artifact at one end of a lineage edge: its sha256, or the sha256 and the port it went through. */
export type Endpoint = string | { sha256: string; port?: string };

/** Which step execution: by its id, or by run and plan node. */
export type StepRef = { executionId: string } | { runId: string; nodeId: string };

export interface LineageInput {
  inputs?: Endpoint[];
  outputs?: Endpoint[];
}

export async function resolveStep(tx: Executor, ref: StepRef): Promise<string> {
  if ('executionId' in ref) return ref.executionId;
  const [row] = await tx
    .select({ id: stepExecutions.id })
    .from(stepExecutions)
    .where(and(eq(stepExecutions.runId, ref.runId), eq(stepExecutions.nodeId, ref.nodeId)));
  if (!row)
    throw new NotFoundError('step execution', `${ref.runId}/${ref.nodeId}`, 'record its start first (recordStepStart)');
  return row.id;
}

const edge = (stepExecutionId: string, direction: 'input' | 'output') => (e: Endpoint) =>
  typeof e === 'string'
    ? { stepExecutionId, direction, artifactSha256: e, port: '' }
    : { stepExecutionId, direction, artifactSha256: e.sha256, port: e.port ?? '' };

/** Inserts edges that are new; re-recording the same edges is a no-op. Artifacts must be recorded first. */
export async function recordLineageIn(tx: Executor, stepExecutionId: string, lineage: LineageInput): Promise<void> {
  const values = [
    ...(lineage.inputs ?? []).map(edge(stepExecutionId, 'input')),
    ...(lineage.outputs ?? []).map(edge(stepExecutionId, 'output')),
  ];
  if (values.length === 0) return;
  try {
    await tx.insert(lineageEdges).values(values).onConflictDoNothing();
  } catch (error) {
    if (pgErrorCode(error) === '23503') {
      const shas = values.map((v) => v.artifactSha256.slice(0, 12)).join(', ');
      throw new ConflictError(
        `lineage of step execution ${stepExecutionId} names an artifact that is not recorded (one of ${shas}); record artifacts before their lineage`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** Gives a cache hit the inputs of the original and its outputs as `reused`: the original stays their producer. */
export async function copyLineageIn(tx: Executor, fromExecutionId: string, toExecutionId: string): Promise<void> {
  await tx.execute(sql`
    insert into ${lineageEdges} (step_execution_id, direction, artifact_sha256, port)
    select ${toExecutionId}::uuid, case when direction = 'input' then 'input' else 'reused' end, artifact_sha256, port
    from ${lineageEdges}
    where step_execution_id = ${fromExecutionId}::uuid and direction in ('input', 'output')
    on conflict do nothing`);
}
