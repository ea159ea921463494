import type { FastifyInstance } from 'fastify';
import { parseLineageTarget, type LineageGraph, type LineageNode } from '../../../store';
import type { LineageResponse } from '../../api';
import type { ConsoleContext } from '../context';
import { ApiInputError } from '../errors';
import { textParams } from '../input';

const directions = ['up', 'down', 'both'] as const;

function view(node: LineageNode): LineageResponse['nodes'][number] {
  switch (node.type) {
    case 'artifact':
      return { id: node.id, kind: 'artifact', label: node.kind, hash: node.sha256, detail: node.uri };
    case 'step':
      return { id: node.id, kind: 'step', label: `${node.nodeId} (${node.step.name})`, detail: node.status };
    case 'run':
      return {
        id: node.id,
        kind: 'run',
        label: `${node.pipeline} ${node.runId}`,
        hash: node.planHash,
        detail: `${node.status}${node.code.commit ? `, code ${node.code.commit.slice(0, 12)}${node.code.dirty ? ' (dirty)' : ''}` : ''}`,
      };
    case 'model':
      return {
        id: node.id,
        kind: 'model',
        label: `${node.name}@${node.version}`,
        hash: node.artifactSha256,
        ...(node.aliases.length ? { detail: node.aliases.join(', ') } : {}),
      };
  }
}

/** Upstream, downstream or both, merged: downstream starts from the target's artifact (a model's own file). */
export function lineageRoutes(app: FastifyInstance, { store }: ConsoleContext) {
  app.get<{ Querystring: { target?: string; direction?: string } }>(
    '/api/lineage',
    { schema: { querystring: textParams({ target: 300, direction: 20 }) } },
    async (request): Promise<LineageResponse> => {
      const { target, direction = 'up' } = request.query;
      if (!target)
        throw new ApiInputError(
          "query parameter 'target' is required: a model (credit-risk@3), an artifact sha256, or run:<id>",
        );
      if (!directions.includes(direction as (typeof directions)[number]))
        throw new ApiInputError(`query parameter 'direction' must be up, down or both, not '${direction}'`);
      const { principal } = request;
      const parsed = parseLineageTarget(target);
      const graphs: LineageGraph[] = [];
      let root: string | undefined;
      if (direction !== 'down' || !('artifact' in parsed)) {
        const up = await store.lineage.upstream(principal, parsed);
        root = up.root;
        if (direction !== 'down') graphs.push(up);
        if (direction !== 'up') {
          const model = up.nodes.find((n) => n.id === up.root && n.type === 'model');
          const artifact = model?.type === 'model' ? model.artifactSha256 : undefined;
          if (!artifact && !('artifact' in parsed))
            throw new ApiInputError(
              `lineage of '${target}' downstream: only an artifact or a model version has things derived from it`,
            );
          graphs.push(
            await store.lineage.downstream(principal, {
              artifact: artifact ?? (parsed as { artifact: string }).artifact,
            }),
          );
        }
      } else {
        const down = await store.lineage.downstream(principal, parsed);
        root = down.root;
        graphs.push(down);
      }
      const nodes = new Map<string, LineageResponse['nodes'][number]>();
      const edges = new Map<string, LineageResponse['edges'][number]>();
      for (const g of graphs) {
        for (const n of g.nodes) nodes.set(n.id, view(n));
        for (const e of g.edges) {
          const label = e.port ? `${e.type}: ${e.port}` : e.type;
          edges.set(`${e.from}>${e.to}>${label}`, { from: e.from, to: e.to, label });
        }
      }
      return {
        root: root ?? graphs[0]!.root,
        truncated: graphs.some((g) => g.truncated),
        nodes: [...nodes.values()],
        edges: [...edges.values()],
      };
    },
  );
}
