import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { ArtifactStore } from '../../activities/artifacts/store';
import type { SourceRef, StepContext } from '../../activities/library';

export type TestContext = StepContext & {
  heartbeats: unknown[];
  sources: SourceRef[];
  abort: AbortController;
  dispose(): Promise<void>;
};

/** A step context over a fresh artifact store in a temp folder, recording heartbeats; for tests. */
export async function testContext(): Promise<TestContext> {
  const root = await mkdtemp(join(tmpdir(), 'kiln-test-'));
  const abort = new AbortController();
  const heartbeats: unknown[] = [];
  const sources: SourceRef[] = [];
  return {
    artifacts: new ArtifactStore(root),
    heartbeat: (details) => {
      heartbeats.push(details);
    },
    signal: abort.signal,
    log: () => {},
    run: { workflowId: 'test-workflow', runId: 'test-run', pipeline: 'test', node: 'step' },
    readFrom: (source) => {
      sources.push(source);
    },
    heartbeats,
    sources,
    abort,
    dispose: () => rm(root, { recursive: true, force: true }),
  };
}

/**
 * The step context a test file's tests share: filled in before they run, disposed after them.
 * @example const ctx = fileTestContext(); // at the top of a test file
 */
export function fileTestContext(): TestContext {
  const ctx = {} as TestContext;
  before(async () => {
    Object.assign(ctx, await testContext());
  });
  after(async () => {
    await ctx.dispose();
  });
  return ctx;
}
