import { eq, inArray, like, or, sql, type SQL } from 'drizzle-orm';
import { NotFoundError } from '../errors';
import { rows, toIso, type Executor } from '../executor';
import { artifacts } from '../schema/artifacts';
import { planVersions } from '../schema/pipelines';
import { models, modelAliases, modelVersions } from '../schema/registry';
import { runs } from '../schema/runs';
import { stepExecutions } from '../schema/steps';
import { nodeId, parseLineageTarget, type LineageEdgeView, type LineageGraph, type LineageNode, type LineageTarget, type ModelNode, type StepNode } from './graph';

export interface LineageOptions {
  /** Step hops to follow from the root; default 32. */
  maxDepth?: number;
}

interface EdgeRow {
  exec: string;
  depth: number;
  direction: 'input' | 'output' | 'reused' | null;
  sha: string | null;
  port: string | null;
  truncated: boolean;
}

const DEFAULT_DEPTH = 32;

function depthOf(options: LineageOptions): number {
  const depth = options.maxDepth ?? DEFAULT_DEPTH;
  if (!Number.isInteger(depth) || depth < 1 || depth > 1000) throw new Error(`maxDepth must be an integer from 1 to 1000, got ${depth}`);
  return depth;
}

// One statement walks the graph and returns every edge of every step it reached, with the
// step's depth; the recursive term joins through the two covering indexes of lineage_edges.
function upstreamWalk(seed: SQL, maxDepth: number): SQL {
  return sql`
    with recursive walk(exec, depth) as (
      ${seed}
      union
      select p.step_execution_id, w.depth + 1
      from walk w
      join lineage_edges i on i.step_execution_id = w.exec and i.direction = 'input'
      join lineage_edges p on p.artifact_sha256 = i.artifact_sha256 and p.direction = 'output'
      where w.depth < ${maxDepth}
    ),
    execs as (select exec, min(depth) as depth from walk group by exec),
    beyond as (
      select exists (
        select 1 from execs x
        join lineage_edges i on i.step_execution_id = x.exec and i.direction = 'input'
        join lineage_edges p on p.artifact_sha256 = i.artifact_sha256 and p.direction = 'output'
        where x.depth = ${maxDepth} and p.step_execution_id not in (select exec from execs)
      ) as truncated
    )
    select x.exec::text as exec, x.depth, e.direction, e.artifact_sha256 as sha, e.port, b.truncated
    from execs x cross join beyond b
    left join lineage_edges e on e.step_execution_id = x.exec`;
}

function downstreamWalk(sha: string, maxDepth: number): SQL {
  return sql`
    with recursive walk(exec, depth) as (
      select step_execution_id, 1 from lineage_edges where artifact_sha256 = ${sha} and direction = 'input'
      union
      select c.step_execution_id, w.depth + 1
      from walk w
      join lineage_edges o on o.step_execution_id = w.exec and o.direction = 'output'
      join lineage_edges c on c.artifact_sha256 = o.artifact_sha256 and c.direction = 'input'
      where w.depth < ${maxDepth}
    ),
    execs as (select exec, min(depth) as depth from walk group by exec),
    beyond as (
      select exists (
        select 1 from execs x
        join lineage_edges o on o.step_execution_id = x.exec and o.direction = 'output'
        join lineage_edges c on c.artifact_sha256 = o.artifact_sha256 and c.direction = 'input'
        where x.depth = ${maxDepth} and c.step_execution_id not in (select exec from execs)
      ) as truncated
    )
    select x.exec::text as exec, x.depth, e.direction, e.artifact_sha256 as sha, e.port, b.truncated
    from execs x cross join beyond b
    left join lineage_edges e on e.step_execution_id = x.exec`;
}

interface Resolved {
  root: string;
  artifact?: string;
  run?: string;
  model?: ModelNode;
}

export const lineageApi = (db: Executor) => {
  async function resolveArtifact(text: string): Promise<string | undefined> {
    if (/^[0-9a-f]{64}$/.test(text)) {
      const [row] = await db.select({ sha: artifacts.sha256 }).from(artifacts).where(eq(artifacts.sha256, text));
      return row?.sha;
    }
    if (!/^[0-9a-f]{8,63}$/.test(text)) return undefined;
    const found = await db.select({ sha: artifacts.sha256 }).from(artifacts).where(like(artifacts.sha256, `${text}%`)).limit(2);
    if (found.length > 1) throw new Error(`artifact prefix '${text}' is ambiguous; give more characters`);
    return found[0]?.sha;
  }

  async function modelNode(name: string, versionOrAlias: number | string): Promise<ModelNode> {
    const [model] = await db.select().from(models).where(eq(models.name, name));
    if (!model) throw new NotFoundError('model', name);
    const aliases = await db.select().from(modelAliases).where(eq(modelAliases.modelId, model.id));
    let where;
    if (typeof versionOrAlias === 'number') where = sql`${modelVersions.modelId} = ${model.id} and ${modelVersions.version} = ${versionOrAlias}`;
    else {
      const alias = aliases.find((a) => a.alias === versionOrAlias);
      if (!alias) throw new NotFoundError('model alias', `${name}@${versionOrAlias}`, `aliases: ${aliases.map((a) => a.alias).join(', ') || 'none'}`);
      where = eq(modelVersions.id, alias.versionId);
    }
    const [version] = await db.select().from(modelVersions).where(where);
    if (!version) throw new NotFoundError('model version', `${name}@${versionOrAlias}`);
    return {
      type: 'model',
      id: nodeId.model(name, version.version),
      name,
      version: version.version,
      artifactSha256: version.artifactSha256,
      metrics: version.metrics,
      aliases: aliases.filter((a) => a.versionId === version.id).map((a) => a.alias).sort(),
      runId: version.runId,
    };
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

  async function build(direction: LineageGraph['direction'], resolved: Resolved, edgeRows: EdgeRow[], maxDepth: number): Promise<LineageGraph> {
    const depth = new Map<string, number>();
    for (const r of edgeRows) depth.set(r.exec, r.depth);
    const execIds = [...depth.keys()];
    // Upstream keeps an output edge only when its artifact leads toward the root; downstream
    // keeps an input edge only when its artifact was derived from the root.
    const keep = new Set<string>(resolved.artifact ? [resolved.artifact] : []);
    const followed = direction === 'upstream' ? 'input' : 'output';
    for (const r of edgeRows) if (r.direction === followed && r.sha) keep.add(r.sha);

    const [stepRows, modelRows] = await Promise.all([
      execIds.length === 0 ? [] : db.select().from(stepExecutions).where(or(
        inArray(stepExecutions.id, execIds),
        inArray(stepExecutions.id, db.select({ id: sql`${stepExecutions.cachedFrom}` }).from(stepExecutions).where(inArray(stepExecutions.id, execIds))),
      )),
      direction === 'downstream' && keep.size > 0
        ? db.select({ name: models.name, v: modelVersions }).from(modelVersions).innerJoin(models, eq(models.id, modelVersions.modelId)).where(inArray(modelVersions.artifactSha256, [...keep]))
        : [],
    ]);
    const rootRunSteps = new Set(resolved.run ? stepRows.filter((s) => s.runId === resolved.run && depth.has(s.id)).map((s) => s.id) : []);

    const edges: LineageEdgeView[] = [];
    for (const r of edgeRows) {
      if (!r.direction || !r.sha) continue;
      const wanted = r.direction === followed || rootRunSteps.has(r.exec) || (keep.has(r.sha) && (r.direction !== 'reused' || direction === 'downstream'));
      if (!wanted) continue;
      keep.add(r.sha);
      edges.push(r.direction === 'input'
        ? { from: nodeId.artifact(r.sha), to: nodeId.step(r.exec), type: 'input', port: r.port ?? '' }
        : { from: nodeId.step(r.exec), to: nodeId.artifact(r.sha), type: r.direction, port: r.port ?? '' });
    }

    const runIds = [...new Set(stepRows.map((s) => s.runId).concat(resolved.run ? [resolved.run] : []))];
    const [artifactRows, runRows, modelAliasRows] = await Promise.all([
      keep.size === 0 ? [] : db.select().from(artifacts).where(inArray(artifacts.sha256, [...keep])),
      runIds.length === 0 ? [] : db.select({ run: runs, version: planVersions.version }).from(runs).innerJoin(planVersions, eq(planVersions.hash, runs.planHash)).where(inArray(runs.id, runIds)),
      modelRows.length === 0 ? [] : db.select().from(modelAliases).where(inArray(modelAliases.versionId, modelRows.map((m) => m.v.id))),
    ]);

    const nodes: LineageNode[] = [];
    if (resolved.model) nodes.push(resolved.model);
    for (const m of modelRows) {
      nodes.push({
        type: 'model', id: nodeId.model(m.name, m.v.version), name: m.name, version: m.v.version, artifactSha256: m.v.artifactSha256,
        metrics: m.v.metrics, aliases: modelAliasRows.filter((a) => a.versionId === m.v.id).map((a) => a.alias).sort(), runId: m.v.runId,
      });
    }
    for (const m of nodes) if (m.type === 'model') edges.push({ from: nodeId.artifact(m.artifactSha256), to: m.id, type: 'registered' });
    for (const a of artifactRows) {
      nodes.push({
        type: 'artifact', id: nodeId.artifact(a.sha256), sha256: a.sha256, kind: a.kind, uri: a.uri, size: a.size,
        mediaType: a.mediaType, schema: a.schema, stats: a.stats, createdAt: toIso(a.createdAt)!,
      });
    }
    for (const s of stepRows) {
      const node: StepNode = {
        type: 'step', id: nodeId.step(s.id), executionId: s.id, runId: s.runId, nodeId: s.nodeId,
        step: { name: s.stepName, version: s.stepVersion }, status: s.status, attempts: s.attempts,
        cacheKey: s.cacheKey, cachedFrom: s.cachedFrom,
        error: s.errorMessage === null ? null : { type: s.errorType, message: s.errorMessage },
        startedAt: toIso(s.startedAt)!, finishedAt: toIso(s.finishedAt), depth: depth.get(s.id) ?? 0,
      };
      nodes.push(node);
      edges.push({ from: node.id, to: nodeId.run(s.runId), type: 'run' });
      if (s.cachedFrom) edges.push({ from: node.id, to: nodeId.step(s.cachedFrom), type: 'cached_from' });
    }
    for (const { run: r, version } of runRows) {
      nodes.push({
        type: 'run', id: nodeId.run(r.id), runId: r.id, workflowId: r.workflowId, temporalRunId: r.temporalRunId,
        pipeline: r.pipelineName, pipelineVersion: version, planHash: r.planHash, status: r.status, params: r.params,
        code: { commit: r.codeCommit, dirty: r.codeDirty }, startedAt: toIso(r.startedAt)!, finishedAt: toIso(r.finishedAt),
      });
    }
    return { direction, root: resolved.root, maxDepth, truncated: edgeRows.some((r) => r.truncated), nodes, edges };
  }

  return {
    /**
     * Everything an artifact, model version or run came from: dataset versions, steps, runs
     * (with plan hash, params and code version), to `maxDepth` step hops.
     * @example await store.upstream('credit-risk@production')
     */
    async upstream(target: LineageTarget | string, options: LineageOptions = {}): Promise<LineageGraph> {
      const maxDepth = depthOf(options);
      const resolved = await resolve(target);
      const seed = resolved.run
        ? sql`select id, 1 from step_executions where run_id = ${resolved.run}`
        : sql`select step_execution_id, 1 from lineage_edges where artifact_sha256 = ${resolved.artifact!} and direction = 'output'`;
      const edgeRows = await rows<EdgeRow>(db, upstreamWalk(seed, maxDepth));
      return build('upstream', resolved, edgeRows, maxDepth);
    },

    /** Everything derived from an artifact (a dataset version): steps, their outputs, runs and registered models. */
    async downstream(target: { artifact: string } | string, options: LineageOptions = {}): Promise<LineageGraph> {
      const maxDepth = depthOf(options);
      const resolved = await resolve(target);
      if (!resolved.artifact) throw new Error('downstream starts from an artifact (a dataset version): give its sha256');
      const edgeRows = await rows<EdgeRow>(db, downstreamWalk(resolved.artifact, maxDepth));
      return build('downstream', resolved, edgeRows, maxDepth);
    },
  };
};
export type LineageApi = ReturnType<typeof lineageApi>;
