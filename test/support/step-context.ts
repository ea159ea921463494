import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArtifactStore } from '../../activities/artifacts/store';
import type { SourceRef, StepContext } from '../../activities/library';

/** A step context over a fresh artifact store in a temp folder, recording heartbeats; for tests. */
export async function testContext(): Promise<
  StepContext & { heartbeats: unknown[]; sources: SourceRef[]; abort: AbortController; dispose(): Promise<void> }
> {
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
