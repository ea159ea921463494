import type { ArtifactNode, LineageGraph, LineageNode, ModelNode, RunNode, StepNode } from './graph';

const short = (sha: string) => sha.slice(0, 12);

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

function label(node: LineageNode, port?: string): string {
  const via = port ? `${port}: ` : '';
  switch (node.type) {
    case 'artifact':
      return `${via}${node.kind} ${short(node.sha256)} (${bytes(node.size)}${node.mediaType ? `, ${node.mediaType}` : ''})`;
    case 'step': {
      const cached = node.cachedFrom ? `, cached from ${node.cachedFrom.slice(0, 8)}` : '';
      const error = node.error ? `, ${node.error.type ?? 'error'}: ${node.error.message}` : '';
      return `${via}step ${node.nodeId} (${node.step.name}@${node.step.version}) ${node.status}, attempts ${node.attempts}${cached}${error} [run ${node.runId}]`;
    }
    case 'run':
      return `run ${node.runId}`;
    case 'model':
      return `model ${node.name}@${node.version}${node.aliases.length ? ` [${node.aliases.join(', ')}]` : ''} ${metrics(node.metrics)}`;
  }
}

const metrics = (m: Record<string, number>) =>
  Object.keys(m).length === 0
    ? ''
    : Object.entries(m)
        .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(4)}`)
        .join(' ');

function runLine(r: RunNode): string {
  const code = r.code.commit ? `${r.code.commit.slice(0, 12)}${r.code.dirty ? ' (dirty)' : ''}` : 'unknown';
  return `  ${r.runId}  ${r.pipeline}@${r.pipelineVersion}  plan ${short(r.planHash)}  code ${code}  ${r.status}  params ${JSON.stringify(r.params)}`;
}

/** Renders a lineage graph as an indented tree for the terminal; shared subtrees are printed once. */
export function renderLineage(graph: LineageGraph): string {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const children = new Map<string, Array<{ id: string; port?: string }>>();
  const add = (parent: string, child: string, port?: string) => {
    const list = children.get(parent) ?? [];
    list.push({ id: child, ...(port ? { port } : {}) });
    children.set(parent, list);
  };
  const up = graph.direction === 'upstream';
  for (const e of graph.edges) {
    if (e.type !== 'registered' && e.type !== 'input' && e.type !== 'output' && e.type !== 'reused') continue;
    // Upstream trees hang what a node came from under it; downstream trees, what came from it.
    if (up) add(e.to, e.from, e.port);
    else add(e.from, e.to, e.port);
  }
  const root = byId.get(graph.root);
  const lines: string[] = [];
  const seen = new Set<string>();
  const kidsOf = (id: string) => (children.get(id) ?? []).sort((a, b) => (a.port ?? '').localeCompare(b.port ?? ''));
  const walk = (id: string, port: string | undefined, prefix: string, last: boolean) => {
    const node = byId.get(id);
    if (!node) return;
    const repeat = seen.has(id) && kidsOf(id).length > 0;
    lines.push(`${prefix}${last ? '└─ ' : '├─ '}${label(node, port)}${repeat ? ' (shown above)' : ''}`);
    if (repeat) return;
    seen.add(id);
    const kids = kidsOf(id);
    kids.forEach((k, i) => walk(k.id, k.port, prefix + (last ? '   ' : '│  '), i === kids.length - 1));
  };

  const heading = up ? 'upstream of' : 'downstream of';
  if (root?.type === 'run') {
    lines.push(`${heading} run ${root.runId}`);
    const steps = graph.nodes.filter(
      (n): n is StepNode => n.type === 'step' && n.runId === root.runId && n.depth === 1,
    );
    const sinks = steps.filter(
      (s) =>
        !graph.edges.some(
          (e) =>
            (e.type === 'output' || e.type === 'reused') &&
            e.from === s.id &&
            graph.edges.some((f) => f.type === 'input' && f.from === e.to && steps.some((t) => t.id === f.to)),
        ),
    );
    sinks.forEach((s, i) => walk(s.id, undefined, '', i === sinks.length - 1));
  } else if (root) {
    lines.push(`${heading} ${label(root)}`);
    seen.add(root.id);
    const kids = kidsOf(root.id);
    kids.forEach((k, i) => walk(k.id, k.port, '', i === kids.length - 1));
  } else {
    lines.push(`${heading} ${graph.root}: not found`);
  }

  const runs = graph.nodes.filter((n): n is RunNode => n.type === 'run');
  if (runs.length) lines.push('', 'runs:', ...runs.map(runLine));
  if (up) {
    const produced = new Set(graph.edges.filter((e) => e.type === 'output' || e.type === 'reused').map((e) => e.to));
    const sources = graph.nodes.filter((n): n is ArtifactNode => n.type === 'artifact' && !produced.has(n.id));
    if (sources.length) lines.push('', 'sources:', ...sources.map((a) => `  ${a.kind} ${a.sha256}  ${a.uri}`));
  } else {
    const models = graph.nodes
      .filter((n): n is ModelNode => n.type === 'model')
      .sort((a, b) => a.name.localeCompare(b.name) || a.version - b.version);
    if (models.length) lines.push('', 'models:', ...models.map((m) => `  ${label(m)}`));
  }
  if (graph.truncated) lines.push('', `(stopped at depth ${graph.maxDepth}; pass a larger depth to see more)`);
  return lines.join('\n');
}
