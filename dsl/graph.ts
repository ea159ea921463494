import type { Binding, PlanNode, Source } from './plan';

export function* bindingSources(binding: Binding): Generator<Source> {
  switch (binding.kind) {
    case 'source':
      yield binding.source;
      break;
    case 'object':
      for (const b of Object.values(binding.fields)) yield* bindingSources(b);
      break;
    case 'array':
      for (const b of binding.items) yield* bindingSources(b);
      break;
    case 'literal':
      break;
  }
}

/** Every node of a plan, those inside map bodies included. */
export function* allNodes(nodes: PlanNode[]): Generator<PlanNode> {
  for (const node of nodes) {
    yield node;
    if (node.type === 'map') yield* allNodes(node.nodes);
  }
}

/** Every source a node reads, with the input field it is read for. */
export function* nodeSources(node: PlanNode): Generator<{ field: string; source: Source }> {
  for (const c of node.when ?? []) yield { field: 'when', source: c.source };
  switch (node.type) {
    case 'step':
      for (const [field, b] of Object.entries(node.inputs))
        for (const source of bindingSources(b)) yield { field, source };
      for (const source of node.after ?? []) yield { field: 'after', source };
      break;
    case 'approval':
      for (const [field, b] of Object.entries(node.show))
        for (const source of bindingSources(b)) yield { field: `show.${field}`, source };
      for (const source of node.after) yield { field: 'after', source };
      break;
    case 'map':
      for (const source of bindingSources(node.over)) yield { field: 'over', source };
      // A body's reads of outer nodes make the map wait for them.
      for (const inner of node.nodes) for (const read of nodeSources(inner)) yield read;
      for (const source of bindingSources(node.output)) yield { field: 'output', source };
      break;
  }
}

/** The ids of nodes in `scope` that `node` must wait for. */
export function dependencies(node: PlanNode, scope: ReadonlySet<string>): string[] {
  const deps = new Set<string>();
  for (const { source } of nodeSources(node)) {
    if (source.kind === 'ref' && scope.has(source.node) && source.node !== node.id) deps.add(source.node);
  }
  return [...deps];
}
