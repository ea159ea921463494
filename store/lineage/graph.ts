/** What a lineage query starts from. */
export type LineageTarget = { artifact: string } | { model: string; version: number | string } | { run: string };

export interface ArtifactNode {
  type: 'artifact';
  id: string;
  sha256: string;
  kind: string;
  uri: string;
  size: number;
  mediaType: string | null;
  schema: unknown;
  stats: Record<string, unknown> | null;
  createdAt: string;
}

export interface StepNode {
  type: 'step';
  id: string;
  executionId: string;
  runId: string;
  nodeId: string;
  step: { name: string; version: string };
  status: string;
  attempts: number;
  cacheKey: string | null;
  cachedFrom: string | null;
  error: { type: string | null; message: string } | null;
  startedAt: string;
  finishedAt: string | null;
  /** Step hops from the root (1 = produced or consumed the root directly). */
  depth: number;
}

export interface RunNode {
  type: 'run';
  id: string;
  runId: string;
  workflowId: string;
  temporalRunId: string | null;
  pipeline: string;
  pipelineVersion: string;
  planHash: string;
  status: string;
  params: Record<string, unknown>;
  code: { commit: string | null; dirty: boolean | null };
  startedAt: string;
  finishedAt: string | null;
}

export interface ModelNode {
  type: 'model';
  id: string;
  name: string;
  version: number;
  artifactSha256: string;
  metrics: Record<string, number>;
  aliases: string[];
  runId: string | null;
}

export type LineageNode = ArtifactNode | StepNode | RunNode | ModelNode;

export interface LineageEdgeView {
  from: string;
  to: string;
  /**
   * input: artifact -> step; output: step -> artifact; reused: a cache hit -> the artifact it
   * reused; run: step -> its run; cached_from: a cache hit -> the step it reused; registered:
   * artifact -> model version.
   */
  type: 'input' | 'output' | 'reused' | 'run' | 'cached_from' | 'registered';
  port?: string;
}

/** A lineage answer as plain JSON: nodes keyed by `id` (`artifact:<sha>`, `step:<uuid>`, `run:<id>`, `model:<name>@<n>`). */
export interface LineageGraph {
  direction: 'upstream' | 'downstream';
  root: string;
  maxDepth: number;
  /** True when the walk stopped at maxDepth with more lineage beyond it. */
  truncated: boolean;
  nodes: LineageNode[];
  edges: LineageEdgeView[];
}

export const nodeId = {
  artifact: (sha: string) => `artifact:${sha}`,
  step: (id: string) => `step:${id}`,
  run: (id: string) => `run:${id}`,
  model: (name: string, version: number) => `model:${name}@${version}`,
};

/** Reads `kiln lineage` arguments: `artifact:sha256:<hex>`, a sha256 or unique prefix, `name@version|alias`, `run:<id>` or a run id. */
export function parseLineageTarget(text: string): LineageTarget {
  const uri = /^artifact:sha256:([0-9a-f]{64})$/.exec(text);
  if (uri) return { artifact: uri[1]! };
  if (/^[0-9a-f]{64}$/.test(text)) return { artifact: text };
  if (text.startsWith('run:')) return { run: text.slice(4) };
  if (text.startsWith('artifact:')) return { artifact: text.slice(9) };
  const at = text.lastIndexOf('@');
  if (at > 0 && at < text.length - 1) {
    const version = text.slice(at + 1);
    return { model: text.slice(0, at), version: /^\d+$/.test(version) ? Number(version) : version };
  }
  if (/^[0-9a-f]{8,63}$/.test(text)) return { artifact: text };
  return { run: text };
}
