import type { NodeState, RunStatus } from '../workflows/protocol';

const MARK: Record<NodeState['status'], string> = {
  pending: '·', running: '▶', waiting: '⏸', succeeded: '✔', failed: '✘', skipped: '↷', cancelled: '■',
};

const seconds = (from?: string, to?: string) => (from ? `${((Date.parse(to ?? new Date().toISOString()) - Date.parse(from)) / 1000).toFixed(1)}s` : '');

const short = (value: unknown, max = 80) => {
  const text = JSON.stringify(value) ?? '';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
};

/** One line for a node: what it is, where it stands, and the detail that matters for that state. */
export function renderNode(node: NodeState, progress?: string): string {
  const label = `${MARK[node.status]} ${node.id}${node.step ? ` (${node.step})` : ''}`.padEnd(44);
  const detail =
    node.status === 'failed' ? `${node.error?.type}: ${node.error?.message}` :
    node.status === 'skipped' ? `skipped: ${node.skippedBecause}` :
    node.status === 'waiting' ? `waiting for approval: ${short(node.gate?.show)}` :
    node.status === 'running' ? [progress, node.items !== undefined ? `${node.items} items` : ''].filter(Boolean).join(' ') :
    node.status === 'succeeded' ? [node.cached ? `cached from ${node.cached.runId}` : '', node.attempts > 1 ? `${node.attempts} attempts` : '', node.type === 'step' ? short(node.output, 60) : ''].filter(Boolean).join('  ') :
    '';
  return `${label} ${node.status.padEnd(9)} ${seconds(node.startedAt, node.finishedAt).padStart(7)}  ${detail}`.trimEnd();
}

export function renderStatus(status: RunStatus, progress: Record<string, string> = {}): string {
  const head = `${status.pipeline}  ${status.status}  plan ${status.planHash.slice(0, 12)}${status.generation ? `  (continued as new ${status.generation}x)` : ''}`;
  const lines = status.nodes.map((n) => `  ${renderNode(n, progress[n.id])}`);
  if (status.error) lines.push(`  error: ${status.error.type}: ${status.error.message}`);
  return [head, ...lines].join('\n');
}
