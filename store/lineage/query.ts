import { eq, like, sql, type SQL } from 'drizzle-orm';
import type { AccessApi, Principal } from '../access';
import { NotFoundError } from '../errors';
import { plainReader, toIso, type Executor, type ReadRunner } from '../executor';
import { artifacts } from '../schema/artifacts';
import { models, modelAliases } from '../schema/registry';
import { runs } from '../schema/runs';
import {
  nodeId,
  parseLineageTarget,
  type LineageEdgeView,
  type LineageGraph,
  type LineageNode,
  type LineageTarget,
  type ModelNode,
} from './graph';

export interface LineageOptions {
  /** Step hops to follow from the root; default 32. */
  maxDepth?: number;
}

const DEFAULT_DEPTH = 32;

function depthOf(options: LineageOptions): number {
  const depth = options.maxDepth ?? DEFAULT_DEPTH;
  if (!Number.isInteger(depth) || depth < 1 || depth > 1000)
    throw new Error(`maxDepth must be an integer from 1 to 1000, got ${depth}`);
  return depth;
}

interface Resolved {
  root: string;
  artifact?: string;
  run?: string;
  model?: ModelNode;
}

type Direction = 'input' | 'output' | 'reused';
type EdgeTuple = [exec: string, depth: number, direction: Direction | null, sha: string | null, port: string | null];

interface StepJson {
  id: string;
  run_id: string;
  node_id: string;
  step_name: string;
  step_version: string;
  status: string;
  attempts: number;
  cache_key: string | null;
  cached_from: string | null;
  error_type: string | null;
  error_message: string | null;
  started_at: string;
  finished_at: string | null;
}
interface RunJson {
  id: string;
  workflow_id: string;
  temporal_run_id: string | null;
  pipeline_name: string;
  plan_hash: string;
  status: string;
  params: Record<string, unknown>;
  code_commit: string | null;
  code_dirty: boolean | null;
  started_at: string;
  finished_at: string | null;
  version: string;
}
interface ArtifactJson {
  sha256: string;
  kind: string;
  uri: string;
  size: number;
  media_type: string | null;
  schema: unknown;
  stats: Record<string, unknown> | null;
  created_at: string;
}
interface ModelJson {
  name: string;
  version: number;
  artifact_sha256: string;
  metrics: Record<string, number>;
  run_id: string | null;
  aliases: string[];
}

interface GraphRow {
  truncated: boolean;
  edges: EdgeTuple[];
  steps: StepJson[];
  runs: RunJson[];
  artifacts: ArtifactJson[];
  models: ModelJson[];
}

/**
 * One statement per query: a recursive walk over lineage_edges (through its two covering
 * indexes, bounded by depth), then every edge, step, run, artifact and (downstream) model
 * version it reached, as JSON. One round trip keeps the latency of a deep graph low.
 */
function graphQuery(
  direction: 'upstream' | 'downstream',
  seed: SQL,
  maxDepth: number,
  rootRun: string | null,
  rootSha: string | null,
): SQL {
  const [from, to] = direction === 'upstream' ? ['input', 'output'] : ['output', 'input'];
  const hop = sql.raw(`
      join lineage_edges a on a.step_execution_id = w.exec and a.direction = '${from}'
      join lineage_edges b on b.artifact_sha256 = a.artifact_sha256 and b.direction = '${to}'`);
  return sql`
    with recursive walk(exec, depth) as (
      ${seed}
      union
      select b.step_execution_id, w.depth + 1 from walk w ${hop}
      where w.depth < ${maxDepth}
    ),
    execs as (select exec, min(depth) as depth from walk group by exec),
    found_edges as (
      select x.exec, x.depth, e.direction, e.artifact_sha256 as sha, e.port
      from execs x left join lineage_edges e on e.step_execution_id = x.exec
    ),
    reached_steps as (select s.* from execs x join step_executions s on s.id = x.exec),
    found_steps as (
      select * from reached_steps
      union all
      select c.* from step_executions c
      where c.id in (select cached_from from reached_steps where cached_from is not null)
        and c.id not in (select exec from execs)
    )
    select
      exists (
        select 1 from execs w ${hop}
        where w.depth = ${maxDepth} and b.step_execution_id not in (select exec from execs)
      ) as truncated,
      coalesce((select json_agg(json_build_array(exec, depth, direction, sha, port)) from found_edges), '[]') as edges,
      coalesce((select json_agg(s) from (
        select id, run_id, node_id, step_name, step_version, status, attempts, cache_key, cached_from, error_type, error_message, started_at, finished_at
        from found_steps) s), '[]') as steps,
      coalesce((select json_agg(r) from (
        select r.id, r.workflow_id, r.temporal_run_id, r.pipeline_name, r.plan_hash, r.status, r.params, r.code_commit, r.code_dirty, r.started_at, r.finished_at, p.version
        from runs r join plan_versions p on p.hash = r.plan_hash
        where r.id in (select run_id from found_steps union select ${rootRun}::text)) r), '[]') as runs,
      coalesce((select json_agg(a) from (
        select sha256, kind, uri, size, media_type, schema, stats, created_at from artifacts
        where sha256 in (select sha from found_edges union select ${rootSha}::text)) a), '[]') as artifacts,
      ${
        direction === 'downstream'
          ? sql`coalesce((select json_agg(m) from (
        select m.name, v.version, v.artifact_sha256, v.metrics, v.run_id,
          array(select alias from model_aliases where version_id = v.id order by alias) as aliases
        from model_versions v join models m on m.id = v.model_id
        where v.artifact_sha256 in (select sha from found_edges where direction = 'output' union select ${rootSha}::text)) m), '[]')`
          : sql`'[]'::json`
      } as models`;
}

export const lineageApi = (db: Executor, access: Pick<AccessApi, 'authorize'>, read: ReadRunner = plainReader(db)) => {
  async function resolveArtifact(text: string): Promise<string | undefined> {
    if (/^[0-9a-f]{64}$/.test(text)) {
      const [row] = await db.select({ sha: artifacts.sha256 }).from(artifacts).where(eq(artifacts.sha256, text));
      return row?.sha;
    }
    if (!/^[0-9a-f]{8,63}$/.test(text)) return undefined;
    const found = await db
      .select({ sha: artifacts.sha256 })
      .from(artifacts)
      .where(like(artifacts.sha256, `${text}%`))
      .limit(2);
    if (found.length > 1) throw new Error(`artifact prefix '${text}' is ambiguous; give more characters`);
    return found[0]?.sha;
  }

  async function modelNode(name: string, versionOrAlias: number | string): Promise<ModelNode> {
    const byNumber = typeof versionOrAlias === 'number';
    const [found] = await read<ModelJson>(
      'lineage_model',
      sql`
      select m.name, v.version, v.artifact_sha256, v.metrics, v.run_id,
        array(select alias from model_aliases where version_id = v.id order by alias) as aliases
      from models m join model_versions v on v.model_id = m.id
      where m.name = ${name} and ${
        byNumber
          ? sql`v.version = ${versionOrAlias}`
          : sql`v.id = (select version_id from model_aliases where model_id = m.id and alias = ${versionOrAlias})`
      }`,
    );
    if (!found) {
      const [model] = await db.select().from(models).where(eq(models.name, name));
      if (!model) throw new NotFoundError('model', name);
      if (byNumber) throw new NotFoundError('model version', `${name}@${versionOrAlias}`);
      const aliases = await db
        .select({ alias: modelAliases.alias })
        .from(modelAliases)
        .where(eq(modelAliases.modelId, model.id));
      throw new NotFoundError(
        'model alias',
        `${name}@${versionOrAlias}`,
        `aliases: ${aliases.map((a) => a.alias).join(', ') || 'none'}`,
      );
    }
    return modelFrom(found);
  }

  async function resolve(target: LineageTarget | string): Promise<Resolved> {
    const t = typeof target === 'string' ? parseLineageTarget(target) : target;
    if ('model' in t) {
      const model = await modelNode(t.model, t.version);
      return { root: model.id, artifact: model.artifactSha256, model };
    }
    if ('artifact' in t) {
      const sha = await resolveArtifact(t.artifact);
      if (sha) return { root: nodeId.artifact(sha), artifact: sha };
      if (typeof target === 'string' && !/^[0-9a-f]{64}$/.test(t.artifact)) return resolve({ run: t.artifact });
      throw new NotFoundError('artifact', t.artifact);
    }
    const [run] = await db.select({ id: runs.id }).from(runs).where(eq(runs.id, t.run));
    if (!run) throw new NotFoundError('run', t.run, 'give an artifact sha256, model@version or a run id');
    return { root: nodeId.run(run.id), run: run.id };
  }

  async function query(
    direction: LineageGraph['direction'],
    resolved: Resolved,
    seed: SQL,
    maxDepth: number,
  ): Promise<LineageGraph> {
    const [row] = await read<GraphRow>(
      `lineage_${direction}`,
      graphQuery(direction, seed, maxDepth, resolved.run ?? null, resolved.artifact ?? null),
    );
    const { truncated, edges: edgeRows, steps, runs: runRows, artifacts: artifactRows, models: modelRows } = row!;

    // Upstream keeps an output edge only when its artifact leads toward the root; downstream
    // keeps an input edge only when its artifact was derived from the root.
    const followed = direction === 'upstream' ? 'input' : 'output';
    const keep = new Set<string>(resolved.artifact ? [resolved.artifact] : []);
    for (const [, , dir, sha] of edgeRows) if (dir === followed && sha) keep.add(sha);
    const rootRunSteps = new Set(resolved.run ? steps.filter((s) => s.run_id === resolved.run).map((s) => s.id) : []);
    const depth = new Map(edgeRows.map(([exec, d]) => [exec, d]));

    const edges: LineageEdgeView[] = [];
    for (const [exec, , dir, sha, port] of edgeRows) {
      if (!dir || !sha) continue;
      const wanted =
        dir === followed ||
        rootRunSteps.has(exec) ||
        (keep.has(sha) && (dir !== 'reused' || direction === 'downstream'));
      if (!wanted) continue;
      keep.add(sha);
      edges.push(
        dir === 'input'
          ? { from: nodeId.artifact(sha), to: nodeId.step(exec), type: 'input', port: port ?? '' }
          : { from: nodeId.step(exec), to: nodeId.artifact(sha), type: dir, port: port ?? '' },
      );
    }

    const nodes: LineageNode[] = [];
    if (resolved.model) nodes.push(resolved.model);
    for (const m of modelRows) if (nodeId.model(m.name, m.version) !== resolved.model?.id) nodes.push(modelFrom(m));
    for (const m of nodes)
      if (m.type === 'model') edges.push({ from: nodeId.artifact(m.artifactSha256), to: m.id, type: 'registered' });
    for (const a of artifactRows) {
      if (!keep.has(a.sha256)) continue;
      nodes.push({
        type: 'artifact',
        id: nodeId.artifact(a.sha256),
        sha256: a.sha256,
        kind: a.kind,
        uri: a.uri,
        size: Number(a.size),
        mediaType: a.media_type,
        schema: a.schema,
        stats: a.stats,
        createdAt: toIso(a.created_at)!,
      });
    }
    for (const s of steps) {
      const id = nodeId.step(s.id);
      nodes.push({
        type: 'step',
        id,
        executionId: s.id,
        runId: s.run_id,
        nodeId: s.node_id,
        step: { name: s.step_name, version: s.step_version },
        status: s.status,
        attempts: s.attempts,
        cacheKey: s.cache_key,
        cachedFrom: s.cached_from,
        error: s.error_message === null ? null : { type: s.error_type, message: s.error_message },
        startedAt: toIso(s.started_at)!,
        finishedAt: toIso(s.finished_at),
        depth: depth.get(s.id) ?? 0,
      });
      edges.push({ from: id, to: nodeId.run(s.run_id), type: 'run' });
      if (s.cached_from) edges.push({ from: id, to: nodeId.step(s.cached_from), type: 'cached_from' });
    }
    for (const r of runRows) {
      nodes.push({
        type: 'run',
        id: nodeId.run(r.id),
        runId: r.id,
        workflowId: r.workflow_id,
        temporalRunId: r.temporal_run_id,
        pipeline: r.pipeline_name,
        pipelineVersion: r.version,
        planHash: r.plan_hash,
        status: r.status,
        params: r.params,
        code: { commit: r.code_commit, dirty: r.code_dirty },
        startedAt: toIso(r.started_at)!,
        finishedAt: toIso(r.finished_at),
      });
    }
    return { direction, root: resolved.root, maxDepth, truncated, nodes, edges };
  }

  return {
    /**
     * Everything an artifact, model version or run came from: dataset versions, steps, runs
     * (with plan hash, params and code version), to `maxDepth` step hops.
     * @example await store.lineage.upstream(principal, 'credit-risk@production')
     */
    async upstream(
      actor: Principal,
      target: LineageTarget | string,
      options: LineageOptions = {},
    ): Promise<LineageGraph> {
      await access.authorize(actor, 'read', subjectOf(target));
      const maxDepth = depthOf(options);
      const resolved = await resolve(target);
      const seed = resolved.run
        ? sql`select id, 1 from step_executions where run_id = ${resolved.run}`
        : sql`select step_execution_id, 1 from lineage_edges where artifact_sha256 = ${resolved.artifact!} and direction = 'output'`;
      return query('upstream', resolved, seed, maxDepth);
    },

    /** Everything derived from an artifact (a dataset version): steps, their outputs, runs and registered models. */
    async downstream(
      actor: Principal,
      target: { artifact: string } | string,
      options: LineageOptions = {},
    ): Promise<LineageGraph> {
      await access.authorize(actor, 'read', subjectOf(target));
      const maxDepth = depthOf(options);
      const resolved = await resolve(target);
      if (!resolved.artifact)
        throw new Error('downstream starts from an artifact (a dataset version): give its sha256');
      const seed = sql`select step_execution_id, 1 from lineage_edges where artifact_sha256 = ${resolved.artifact} and direction = 'input'`;
      return query('downstream', resolved, seed, maxDepth);
    },
  };
};
export type LineageApi = ReturnType<typeof lineageApi>;

const subjectOf = (target: LineageTarget | string) => (typeof target === 'string' ? target : JSON.stringify(target));

const modelFrom = (m: ModelJson): ModelNode => ({
  type: 'model',
  id: nodeId.model(m.name, m.version),
  name: m.name,
  version: m.version,
  artifactSha256: m.artifact_sha256,
  metrics: m.metrics,
  aliases: [...m.aliases].sort(),
  runId: m.run_id,
});
