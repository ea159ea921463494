import { nodeId, type LineageGraph } from '../store/lineage/graph';

/** The dataset a model version was trained on, as lineage records it. */
export interface TrainingDataset {
  sha256: string;
  uri: string;
  /** The input port it was read on (`train`, `dataset`). */
  port: string;
}

// Ports a training step reads its rows on, most telling first.
const PORTS = ['train', 'dataset', 'data'];

/**
 * The training dataset of a model artifact in its upstream lineage graph: walking back from the
 * artifact through the steps that produced it, the first step that read a dataset (on `train`
 * when it read several). Undefined when no step on record produced the artifact from a dataset.
 */
export function trainingDataset(graph: LineageGraph, modelSha256: string): TrainingDataset | undefined {
  const byId = new Map(graph.nodes.flatMap((n) => (n.type === 'artifact' ? [[n.id, n] as const] : [])));
  let frontier = [modelSha256];
  const seen = new Set(frontier);
  while (frontier.length > 0) {
    const next: string[] = [];
    const found: TrainingDataset[] = [];
    for (const sha of frontier) {
      const target = nodeId.artifact(sha);
      const producers = graph.edges.filter((e) => e.to === target && (e.type === 'output' || e.type === 'reused'));
      for (const producer of producers) {
        for (const input of graph.edges.filter((e) => e.to === producer.from && e.type === 'input')) {
          const artifact = byId.get(input.from);
          if (!artifact) continue;
          if (artifact.kind === 'dataset')
            found.push({ sha256: artifact.sha256, uri: artifact.uri, port: input.port ?? '' });
          else if (!seen.has(artifact.sha256)) {
            seen.add(artifact.sha256);
            next.push(artifact.sha256);
          }
        }
      }
    }
    if (found.length > 0) {
      const rank = (port: string) => (PORTS.includes(port) ? PORTS.indexOf(port) : PORTS.length);
      return found.sort((a, b) => rank(a.port) - rank(b.port))[0];
    }
    frontier = next;
  }
  return undefined;
}
