import { DURATION_HINT, durationMs } from './duration';
import { PlanError } from './errors';
import { bindingSources, dependencies, nodeSources } from './graph';
import type { PipelinePlan, PlanNode, Source, StepOptions } from './plan';

export interface StepCatalog {
  /** Known step names with their current versions. */
  has(name: string): boolean;
}

interface Frame {
  nodes: Map<string, PlanNode>;
  mapId?: string;
  parent?: Frame;
}

const NODE_TYPES = new Set(['step', 'approval', 'map']);

/**
 * Checks a plan before it runs: shape, unique ids, references, cycles and, given a catalog, step names.
 * Throws a PlanError naming the node and field at fault.
 */
export function validatePlan(plan: PipelinePlan, catalog?: StepCatalog): void {
  if (plan?.kind !== 'kiln.plan' || plan.formatVersion !== 1)
    throw new PlanError('', 'kind', "not a Kiln plan: expected kind 'kiln.plan' and formatVersion 1");
  if (typeof plan.name !== 'string' || !plan.name) throw new PlanError('', 'name', 'a plan needs a name');
  if (!Array.isArray(plan.nodes)) throw new PlanError('', 'nodes', 'a plan needs a list of nodes');
  checkOptions('', 'defaults', plan.defaults ?? {});
  checkScope(plan, plan.nodes, undefined, new Set(), catalog);
}

/** A duration the workflow cannot read would fail its task over and over instead of the run: refuse it here. */
function checkDuration(node: string, field: string, value: unknown): void {
  if (value !== undefined && durationMs(value as number | string) === undefined)
    throw new PlanError(node, field, `${JSON.stringify(value)} is not a duration: ${DURATION_HINT}`);
}

function checkOptions(node: string, field: string, options: StepOptions & { parallelism?: number }): void {
  for (const key of ['startToCloseTimeout', 'scheduleToCloseTimeout', 'heartbeatTimeout'] as const)
    checkDuration(node, `${field}.${key}`, options[key]);
  for (const key of ['initialInterval', 'maximumInterval'] as const)
    checkDuration(node, `${field}.retry.${key}`, options.retry?.[key]);
  const { parallelism } = options;
  if (parallelism !== undefined && !(Number.isInteger(parallelism) && parallelism > 0))
    throw new PlanError(
      node,
      `${field}.parallelism`,
      `parallelism must be a whole number of at least 1, not ${JSON.stringify(parallelism)}`,
    );
}

function checkScope(
  plan: PipelinePlan,
  nodes: PlanNode[],
  parent: Frame | undefined,
  seen: Set<string>,
  catalog?: StepCatalog,
  map?: PlanNode & { type: 'map' },
): void {
  if (!Array.isArray(nodes)) throw new PlanError(map?.id ?? '', 'nodes', 'a map needs a list of nodes');
  const frame: Frame = { nodes: new Map(), parent, mapId: map?.id };
  for (const [i, node] of nodes.entries()) {
    if (typeof node?.id !== 'string' || !node.id) throw new PlanError(`#${i}`, 'id', 'every node needs a string id');
    if (!NODE_TYPES.has(node.type))
      throw new PlanError(node.id, 'type', `unknown node type '${String(node.type)}'; expected step, approval or map`);
    if (seen.has(node.id)) throw new PlanError(node.id, 'id', 'duplicate id: every node in a plan needs its own id');
    seen.add(node.id);
    frame.nodes.set(node.id, node);
  }
  for (const node of nodes) {
    if (node.type === 'step') {
      if (typeof node.step?.name !== 'string')
        throw new PlanError(node.id, 'step', 'a step node names its step definition');
      if (catalog && !catalog.has(node.step.name))
        throw new PlanError(node.id, 'step', `unknown step '${node.step.name}': no worker library defines it`);
      if (typeof node.inputs !== 'object' || node.inputs === null)
        throw new PlanError(node.id, 'inputs', 'a step node needs an inputs object');
      checkOptions(node.id, 'options', node.options ?? {});
    }
    if (node.type === 'approval') checkDuration(node.id, 'timeout', node.timeout);
    if (node.type === 'map') checkOptions(node.id, 'map', { parallelism: node.parallelism });
    for (const { field, source } of nodeSources(node)) checkSource(plan, frame, node, field, source);
  }
  if (map) for (const source of bindingSources(map.output)) checkSource(plan, frame, map, 'output', source, true);
  checkAcyclic(nodes, new Set(frame.nodes.keys()));
  for (const node of nodes) if (node.type === 'map') checkScope(plan, node.nodes, frame, seen, catalog, node);
}

function checkSource(
  plan: PipelinePlan,
  frame: Frame,
  node: PlanNode,
  field: string,
  source: Source,
  inBody = false,
): void {
  // A map's body and output are checked in the body's own frame.
  if (node.type === 'map' && field !== 'over' && field !== 'when' && !inBody) return;
  switch (source.kind) {
    case 'param':
      if (!(source.name in plan.params))
        throw new PlanError(node.id, field, `reads parameter '${source.name}', which the pipeline does not declare`);
      return;
    case 'item':
    case 'index':
      for (let f: Frame | undefined = frame; f; f = f.parent) if (f.mapId === source.map) return;
      throw new PlanError(node.id, field, `reads the item of map '${source.map}' outside that map`);
    case 'ref': {
      let target: PlanNode | undefined;
      for (let f: Frame | undefined = frame; f && !target; f = f.parent) target = f.nodes.get(source.node);
      if (!target)
        throw new PlanError(
          node.id,
          field,
          `reads '${source.node}', which is not a node in scope (a dangling reference)`,
        );
      if (target === node) throw new PlanError(node.id, field, 'reads its own output');
      for (let f: Frame | undefined = frame; f; f = f.parent) {
        if (f.mapId === target.id)
          throw new PlanError(node.id, field, `reads map '${target.id}' from inside it (a cycle)`);
      }
      const key = source.path[0];
      if (target.type === 'step' && key !== undefined && target.outputKeys && !target.outputKeys.includes(key)) {
        throw new PlanError(
          node.id,
          field,
          `reads '${source.node}.${key}', but '${source.node}' outputs only ${target.outputKeys.join(', ')}`,
        );
      }
    }
  }
}

function checkAcyclic(nodes: PlanNode[], scope: ReadonlySet<string>): void {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]) => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(id)), id];
      throw new PlanError(id, 'inputs', `cycle: ${cycle.join(' -> ')}`);
    }
    state.set(id, 'visiting');
    for (const dep of dependencies(byId.get(id)!, scope)) visit(dep, [...path, id]);
    state.set(id, 'done');
  };
  for (const node of nodes) visit(node.id, []);
}
