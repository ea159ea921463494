import { parseArgs } from 'node:util';
import { dependencies, type PlanNode } from '../../dsl';
import { loadPlan } from '../load-pipeline';

export const help = `kiln plan <pipeline.ts | plan.json> [--json]
  Compiles (or validates) a pipeline and prints its graph, or the plan JSON.`;

function describeNodes(nodes: PlanNode[], indent: string): string[] {
  const ids = new Set(nodes.map((n) => n.id));
  return nodes.flatMap((node) => {
    const deps = dependencies(node, ids);
    const what =
      node.type === 'step'
        ? node.step.name
        : node.type === 'approval'
          ? `approval gate${node.timeout ? `, timeout ${node.timeout}` : ''}`
          : `map${node.parallelism ? `, parallelism ${node.parallelism}` : ''}`;
    const line = `${indent}${node.id}  [${what}]${deps.length ? `  <- ${deps.join(', ')}` : ''}${node.when?.length ? '  (conditional)' : ''}`;
    return node.type === 'map' ? [line, ...describeNodes(node.nodes, `${indent}    `)] : [line];
  });
}

export async function plan(args: string[], print = console.log): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } });
  const file = positionals[0];
  if (!file) throw new Error(`which pipeline? usage:\n${help}`);
  const { plan } = await loadPlan(file);
  if (values.json) {
    print(JSON.stringify(plan, null, 2));
    return 0;
  }
  const params = Object.entries(plan.params).map(
    ([k, p]) => `${k}${p.required ? '' : `=${JSON.stringify(p.default ?? null)}`}`,
  );
  print(
    `${plan.name} v${plan.version}  plan ${plan.hash.slice(0, 12)}${params.length ? `  params: ${params.join(' ')}` : ''}`,
  );
  for (const line of describeNodes(plan.nodes, '  ')) print(line);
  return 0;
}
