import { builtinSteps } from '../activities';
import { allNodes, type PipelinePlan } from '../dsl';
import { loadSteps } from '../workers/run-worker';

/**
 * Refuses a plan naming a step the worker cannot run, before the run starts. The CLI knows what
 * a worker knows: the built-in steps, plus the steps of the modules given with --steps (what
 * `kiln worker --steps` loads). The error names the node, the step and the task queue.
 */
export async function checkCatalog(plan: PipelinePlan, taskQueue: string, stepModules: string[] = []): Promise<void> {
  const extra = (await Promise.all(stepModules.map((file) => loadSteps(file)))).flat();
  const known = new Set([...builtinSteps, ...extra].map((impl) => impl.def.name));
  for (const node of allNodes(plan.nodes)) {
    if (node.type !== 'step' || known.has(node.step.name)) continue;
    const queue = node.options?.taskQueue ?? plan.defaults?.taskQueue ?? taskQueue;
    throw new Error(
      `step '${node.id}' runs '${node.step.name}', which is not a built-in step${stepModules.length ? ` nor in ${stepModules.join(', ')}` : ''}; ` +
        `the worker of task queue '${queue}' would refuse the run. Pass the module that defines it with --steps (as its worker does: kiln worker --steps module.ts)`,
    );
  }
}
