import type { NodeSnapshot, RunSnapshot } from '../workflows/protocol';

const MARK: Record<NodeSnapshot['status'], string> = {
  pending: '·',
  running: '▶',
  waiting: '⏸',
  succeeded: '✔',
  failed: '✘',
  skipped: '↷',
  cancelled: '■',
};

const seconds = (from?: string, to?: string) =>
  from ? `${((Date.parse(to ?? new Date().toISOString()) - Date.parse(from)) / 1000).toFixed(1)}s` : '';

const short = (value: unknown, max = 80) => {
  const text = JSON.stringify(value) ?? '';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
};

/** One line for a node: what it is, where it stands, and the detail that matters for that state. */
export function renderNode(node: NodeSnapshot, progress?: string): string {
  const label = `${MARK[node.status]} ${node.id}${node.step ? ` (${node.step})` : ''}`.padEnd(44);
  const detail =
    node.status === 'failed'
      ? `${node.error?.type}: ${node.error?.message}`
      : node.status === 'skipped'
        ? `skipped: ${node.skippedBecause}`
        : node.status === 'waiting'
          ? `waiting for approval: ${short(node.gate?.show)}`
          : node.status === 'running'
            ? progress || (node.items !== undefined ? `${node.items} items` : '')
            : node.status === 'succeeded'
              ? [
                  node.cached ? `cached from ${node.cached.runId}` : '',
                  node.attempts > 1 ? `${node.attempts} attempts` : '',
                  node.type === 'step' ? short(node.output, 60) : (progress ?? ''),
                ]
                  .filter(Boolean)
                  .join('  ')
              : '';
  return `${label} ${node.status.padEnd(9)} ${seconds(node.startedAt, node.finishedAt).padStart(7)}  ${detail}`.trimEnd();
}

const FINISHED: ReadonlySet<NodeSnapshot['status']> = new Set(['succeeded', 'skipped']);

interface Score {
  metric: string;
  goal: 'max' | 'min';
  value: number;
  trial: number;
}

/** The `objective: { metric, goal, value }` a step reports (tune.record does), if its output has one. */
function scoreIn(output: unknown, trial: number): Score | undefined {
  const o = (output as { objective?: Partial<Score> } | null | undefined)?.objective;
  if (!o || typeof o.metric !== 'string' || (o.goal !== 'max' && o.goal !== 'min') || typeof o.value !== 'number')
    return undefined;
  return { metric: o.metric, goal: o.goal, value: o.value, trial };
}

const better = (a: Score, b: Score) =>
  (a.goal === 'max' ? a.value > b.value : a.value < b.value) || (a.value === b.value && a.trial < b.trial);

/** A map's instances by index, and how many have finished (every node of `map[i].` succeeded or skipped) of how many. */
export function mapCounts(map: NodeSnapshot, nodes: readonly NodeSnapshot[]) {
  if (map.type !== 'map' || map.items === undefined) return undefined;
  const prefix = `${map.id}[`;
  const instances = new Map<number, NodeSnapshot[]>();
  for (const node of nodes) {
    if (!node.id.startsWith(prefix)) continue;
    const index = Number(node.id.slice(prefix.length, node.id.indexOf(']', prefix.length)));
    instances.set(index, [...(instances.get(index) ?? []), node]);
  }
  // A map that continued as new lists only this generation's items; it counts all it finished.
  const done =
    map.itemsDone ?? [...instances.values()].filter((inside) => inside.every((n) => FINISHED.has(n.status))).length;
  return { instances, done, total: map.items };
}

/**
 * A map's progress, read from the status alone: how many of its instances have finished (every
 * node of `map[i].` succeeded or skipped) of how many, and, when a step inside reports an
 * objective, the best value so far and its trial.
 */
export function mapProgress(map: NodeSnapshot, nodes: readonly NodeSnapshot[]): string | undefined {
  const counts = mapCounts(map, nodes);
  if (!counts) return undefined;
  let best: Score | undefined;
  for (const [index, inside] of counts.instances) {
    for (const node of inside) {
      const score = node.status === 'succeeded' ? scoreIn(node.output, index) : undefined;
      if (score && (!best || better(score, best))) best = score;
    }
  }
  const done = `${counts.done} of ${counts.total} done`;
  if (!best) return done;
  return `${done}, best${map.status === 'succeeded' ? '' : ' so far'} ${best.metric} ${+best.value.toFixed(4)} (trial ${best.trial})`;
}

/** Progress details by node id: the running activities' (from Temporal) and every map's. */
export function progressDetails(status: RunSnapshot, pending: Record<string, string> = {}): Record<string, string> {
  const details = { ...pending };
  for (const node of status.nodes) {
    const progress = mapProgress(node, status.nodes);
    if (progress !== undefined) details[node.id] = progress;
  }
  return details;
}

/** The status and its nodes; `state` overrides the run's own word when Temporal knows better (terminated, timed_out). */
export function renderStatus(status: RunSnapshot, pending: Record<string, string> = {}, state?: string): string {
  const head = `${status.pipeline}  ${state ?? status.status}  plan ${status.planHash.slice(0, 12)}${status.generation ? `  (continued as new ${status.generation}x)` : ''}`;
  const progress = progressDetails(status, pending);
  const lines = status.nodes.map((n) => `  ${renderNode(n, progress[n.id])}`);
  if (status.error) lines.push(`  error: ${status.error.type}: ${status.error.message}`);
  return [head, ...lines].join('\n');
}

/** Metrics as a two-column table, the names padded to the longest so every value starts in one column. */
export function renderMetrics(metrics: Record<string, number>, indent = '  '): string {
  const width = Math.max(0, ...Object.keys(metrics).map((k) => k.length));
  return Object.entries(metrics)
    .map(([k, v]) => `${indent}${k.padEnd(width)}  ${+v.toFixed(4)}`)
    .join('\n');
}
