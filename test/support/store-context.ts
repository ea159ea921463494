import type { Store } from '../../store';
import { testBackends } from './backends';
import { testContext } from './step-context';

/** A test context (see step-context.ts) whose store is a fresh in-memory PGlite store; `dispose` closes both. */
export async function storeContext(): Promise<Awaited<ReturnType<typeof testContext>> & { store: Store }> {
  const backend = testBackends().find((b) => b.name === 'pglite')!;
  const store = await backend.open();
  const ctx = await testContext();
  return {
    ...ctx,
    store,
    dispose: async () => {
      await ctx.dispose();
      await backend.close();
    },
  };
}
