import type { Client } from '@temporalio/client';
import { builtinSteps } from '../activities';
import { allNodes, type PipelinePlan } from '../dsl';
import { advertisedCatalogs } from '../workers/catalog-advert';
import { loadSteps } from '../workers/run-worker';

/** A step of a plan that no worker of its task queue provides; names the node, the step and the queue. */
export class MissingStepError extends Error {
  constructor(
    readonly node: string,
    readonly step: string,
    readonly taskQueue: string,
    message: string,
  ) {
    super(message);
    this.name = 'MissingStepError';
  }
}

// TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY: steps are activities, so a step's workers poll this type.
const ACTIVITY_QUEUE = 2;
// Temporal keeps a poller listed for minutes after it stopped; a worker polls at least once a minute.
const LIVE_POLLER_MS = 90_000;

/**
 * The steps the running workers of a task queue provide, from the catalogs they advertise in
 * KILN_HOME (workers/catalog-advert.ts) for the workers Temporal sees polling; undefined when no
 * polling worker has advertised one (a worker on another machine, or none running yet).
 */
export async function runningCatalog(
  client: Client,
  home: string,
  taskQueue: string,
): Promise<{ steps: Set<string>; workers: string[] } | undefined> {
  const { pollers } = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: ACTIVITY_QUEUE,
  });
  const seen = Date.now() - LIVE_POLLER_MS;
  const live = new Set(
    (pollers ?? [])
      .filter((p) => p.identity && Number(p.lastAccessTime?.seconds ?? 0) * 1000 >= seen)
      .map((p) => p.identity!),
  );
  const adverts = [...(await advertisedCatalogs(home, taskQueue))].filter(([identity]) => live.has(identity));
  if (!adverts.length) return undefined;
  return { steps: new Set(adverts.flatMap(([, steps]) => steps)), workers: adverts.map(([identity]) => identity) };
}

/**
 * Refuses, before the run starts, a plan naming a step its worker cannot run; the error names the
 * node, the step and the task queue. Where running workers advertise their steps, the plan is
 * checked against those; otherwise against what a worker would load: the built-in steps and
 * the given step modules (those of --steps and kiln.config.ts).
 */
export async function checkCatalog(
  plan: PipelinePlan,
  taskQueue: string,
  stepModules: string[] = [],
  running?: { client: Client; home: string },
): Promise<void> {
  let local: Set<string> | undefined;
  const catalogs = new Map<string, Awaited<ReturnType<typeof runningCatalog>>>();
  for (const node of allNodes(plan.nodes)) {
    if (node.type !== 'step') continue;
    const queue = node.options?.taskQueue ?? plan.defaults?.taskQueue ?? taskQueue;
    if (running && !catalogs.has(queue)) catalogs.set(queue, await runningCatalog(running.client, running.home, queue));
    const live = catalogs.get(queue);
    if (live) {
      if (live.steps.has(node.step.name)) continue;
      throw new MissingStepError(
        node.id,
        node.step.name,
        queue,
        `step '${node.id}' runs '${node.step.name}', which no running worker of task queue '${queue}' provides (${live.workers.join(', ')}); ` +
          `start the worker with the module that defines it (kiln dev --steps module.ts, kiln worker --steps module.ts, or list it under steps in kiln.config.ts)`,
      );
    }
    local ??= new Set(
      [...builtinSteps, ...(await Promise.all(stepModules.map((file) => loadSteps(file)))).flat()].map(
        (impl) => impl.def.name,
      ),
    );
    if (local.has(node.step.name)) continue;
    throw new MissingStepError(
      node.id,
      node.step.name,
      queue,
      `step '${node.id}' runs '${node.step.name}', which is not a built-in step${stepModules.length ? ` nor in ${stepModules.join(', ')}` : ''}; ` +
        `the worker of task queue '${queue}' would refuse the run. Pass the module that defines it with --steps (as its worker does: kiln worker --steps module.ts), or list it under steps in kiln.config.ts`,
    );
  }
}
