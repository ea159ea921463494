import type { StepStore } from '../../activities/library';
import type { Store } from '../../store';
import { stepStore } from '../../workers/step-store';
import { testBackends } from './backends';
import { testContext } from './step-context';

/**
 * A test context (see step-context.ts) over a fresh in-memory PGlite store: `store` is what a step
 * of the context's run gets from the worker, `full` the whole store for setting up and checking;
 * `dispose` closes both.
 */
export async function storeContext(): Promise<
  Awaited<ReturnType<typeof testContext>> & { store: StepStore; full: Store }
> {
  const backend = testBackends().find((b) => b.name === 'pglite')!;
  const full = await backend.open();
  const ctx = await testContext();
  return {
    ...ctx,
    store: stepStore(full, ctx.run.workflowId),
    full,
    dispose: async () => {
      await ctx.dispose();
      await backend.close();
    },
  };
}
