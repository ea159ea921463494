import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';

/**
 * A synthetic lineage graph shaped like Kiln's own runs. Each family is a chain of runs where run
 * k ingests dataset version k-1 plus new rows, then validates, splits, fits a transform, trains
 * and evaluates: 6 steps and 17 edges per run, and its model is registered as version k.
 */
export interface GraphShape {
  families: number;
  runsPerFamily: number;
}

export const EDGES_PER_RUN = 17;

export const shapeFor = (edges: number, runsPerFamily: number): GraphShape => ({
  families: Math.max(1, Math.ceil(edges / (EDGES_PER_RUN * runsPerFamily))),
  runsPerFamily,
});

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
export const familyModel = (f: number) => `bench-model-${f}`;
export const familySource = (f: number) => sha(`family ${f} source.csv`);
export const datasetVersion = (f: number, k: number) => sha(`family ${f} raw v${k}`);

interface Batch {
  runs: { id: string[]; pipeline: string[]; plan: string[]; params: string[]; commit: string[] };
  steps: { id: string[]; run: string[]; node: string[]; name: string[] };
  artifacts: { sha: string[]; kind: string[]; size: number[] };
  edges: { exec: string[]; direction: string[]; sha: string[]; port: string[] };
  versions: { model: string[]; version: number[]; sha: string[]; run: string[]; auc: number[] };
}

const emptyBatch = (): Batch => ({
  runs: { id: [], pipeline: [], plan: [], params: [], commit: [] },
  steps: { id: [], run: [], node: [], name: [] },
  artifacts: { sha: [], kind: [], size: [] },
  edges: { exec: [], direction: [], sha: [], port: [] },
  versions: { model: [], version: [], sha: [], run: [], auc: [] },
});

function family(batch: Batch, f: number, shape: GraphShape, planHash: string): void {
  const artifact = (s: string, kind: string) => {
    batch.artifacts.sha.push(s);
    batch.artifacts.kind.push(kind);
    batch.artifacts.size.push(1000 + (s.charCodeAt(0) % 100) * 1000);
    return s;
  };
  artifact(familySource(f), 'file');
  for (let k = 1; k <= shape.runsPerFamily; k++) {
    const runId = `bench-${f}-${k}`;
    batch.runs.id.push(runId);
    batch.runs.pipeline.push('bench');
    batch.runs.plan.push(planHash);
    batch.runs.params.push(JSON.stringify({ family: f, version: k, minAuc: 0.7 }));
    batch.runs.commit.push(sha(`commit ${f} ${k}`).slice(0, 40));
    const step = (node: string, inputs: Record<string, string>, outputs: Record<string, string>) => {
      const id = randomUUID();
      batch.steps.id.push(id);
      batch.steps.run.push(runId);
      batch.steps.node.push(node);
      batch.steps.name.push(node);
      for (const [port, s] of Object.entries(inputs)) {
        batch.edges.exec.push(id);
        batch.edges.direction.push('input');
        batch.edges.sha.push(s);
        batch.edges.port.push(port);
      }
      for (const [port, s] of Object.entries(outputs)) {
        batch.edges.exec.push(id);
        batch.edges.direction.push('output');
        batch.edges.sha.push(s);
        batch.edges.port.push(port);
      }
    };
    const rows = artifact(sha(`family ${f} new rows ${k}`), 'file');
    const base = k === 1 ? familySource(f) : datasetVersion(f, k - 1);
    const raw = artifact(datasetVersion(f, k), 'dataset');
    const checks = artifact(sha(`family ${f} checks ${k}`), 'report');
    const train = artifact(sha(`family ${f} train ${k}`), 'dataset');
    const test = artifact(sha(`family ${f} test ${k}`), 'dataset');
    const transform = artifact(sha(`family ${f} transform ${k}`), 'transform');
    const model = artifact(sha(`family ${f} model ${k}`), 'model');
    const report = artifact(sha(`family ${f} eval ${k}`), 'report');
    step('ingest', { base, rows }, { dataset: raw });
    step('validate', { dataset: raw }, { report: checks });
    step('split', { dataset: raw }, { train, test });
    step('fit', { dataset: train }, { transform });
    step('train', { train, transform }, { model });
    step('evaluate', { model, test, transform }, { report });
    batch.versions.model.push(familyModel(f));
    batch.versions.version.push(k);
    batch.versions.sha.push(model);
    batch.versions.run.push(runId);
    batch.versions.auc.push(0.7 + ((f * 31 + k * 17) % 100) / 400);
  }
}

async function flush(client: pg.Client, b: Batch): Promise<void> {
  await client.query(
    `insert into runs (id, workflow_id, pipeline_name, plan_hash, status, params, code_commit, code_dirty, started_at, finished_at)
    select id, 'wf-' || id, p, h, 'succeeded', params::jsonb, c, false, now(), now() from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) as t(id, p, h, params, c)`,
    [b.runs.id, b.runs.pipeline, b.runs.plan, b.runs.params, b.runs.commit],
  );
  await client.query(
    `insert into step_executions (id, run_id, node_id, step_name, step_version, status, attempts, started_at, attempt_started_at, finished_at)
    select id, r, n, s, '1', 'succeeded', 1, now(), now(), now() from unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) as t(id, r, n, s)`,
    [b.steps.id, b.steps.run, b.steps.node, b.steps.name],
  );
  await client.query(
    `insert into artifacts (sha256, kind, uri, size)
    select s, k, 'artifact:sha256:' || s, z from unnest($1::text[], $2::text[], $3::bigint[]) as t(s, k, z) on conflict do nothing`,
    [b.artifacts.sha, b.artifacts.kind, b.artifacts.size],
  );
  await client.query(
    `insert into lineage_edges (step_execution_id, direction, artifact_sha256, port)
    select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[])`,
    [b.edges.exec, b.edges.direction, b.edges.sha, b.edges.port],
  );
  await client.query(
    `insert into models (name) select distinct m from unnest($1::text[]) as t(m) on conflict do nothing`,
    [b.versions.model],
  );
  await client.query(
    `insert into model_versions (model_id, version, artifact_sha256, metrics, run_id, created_by)
    select m.id, v, s, jsonb_build_object('auc', a), r, 'bench' from unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::float8[]) as t(name, v, s, r, a)
    join models m on m.name = t.name`,
    [b.versions.model, b.versions.version, b.versions.sha, b.versions.run, b.versions.auc],
  );
}

/** Inserts the graph with multi-row `insert ... select from unnest(...)`, a few thousand runs per statement. */
export async function generate(
  client: pg.Client,
  shape: GraphShape,
  onProgress?: (families: number) => void,
): Promise<{ edges: number }> {
  const planHash = sha('bench plan');
  await client.query(`insert into pipelines (name) values ('bench') on conflict do nothing`);
  await client.query(
    `insert into plan_versions (hash, pipeline_name, version, plan) values ($1, 'bench', '1.0.0', '{}'::jsonb) on conflict do nothing`,
    [planHash],
  );
  const familiesPerBatch = Math.max(1, Math.floor(3000 / shape.runsPerFamily));
  let edges = 0;
  for (let f = 0; f < shape.families; f += familiesPerBatch) {
    const batch = emptyBatch();
    for (let g = f; g < Math.min(shape.families, f + familiesPerBatch); g++) family(batch, g, shape, planHash);
    await client.query('begin');
    await flush(client, batch);
    await client.query('commit');
    edges += batch.edges.exec.length;
    onProgress?.(Math.min(shape.families, f + familiesPerBatch));
  }
  await client.query('analyze');
  return { edges };
}
