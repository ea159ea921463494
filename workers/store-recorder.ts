import type { ArtifactStore } from '../activities/artifacts/store';
import { artifactUri } from '../activities/refs';
import type { SourceRef } from '../activities/library';
import { SYSTEM, type Store } from '../store';
import type { StepRequest } from '../workflows/protocol';
import { findRefs } from './artifact-refs';
import { stepWrites } from './step-writes';
import type { StepRecorder } from './step-activities';

/**
 * Records steps in the store, as the system (its own bookkeeping). Kiln's run id is the workflow id, which continue-as-new keeps;
 * every write is idempotent, so a retried or replayed activity never adds a row. Starts and
 * finishes of concurrent steps share transactions, and a quick step's start and finish are one
 * row (stepWrites).
 */
export function storeRecorder(store: Store, artifacts: ArtifactStore): StepRecorder {
  const write = stepWrites(store);
  const identity = (request: StepRequest) => ({
    runId: request.context.workflowId,
    nodeId: request.context.node,
    step: request.context.step,
  });

  return {
    async reuse(request, key, attempt) {
      // A retry may follow an attempt that recorded its success but whose completion Temporal never
      // got (a lost worker): return that result. Recording it as a cache hit of itself would point
      // the row at itself and take it out of the cache, since only succeeded rows are reused. A
      // first attempt has no such past, so it costs no read.
      if (attempt > 1) {
        const own = await store.steps.getStep(SYSTEM, {
          runId: request.context.workflowId,
          nodeId: request.context.node,
        });
        // (A row recorded with the cache off has no key; within one run a node's input cannot change.)
        if (own?.status === 'succeeded' && (own.cacheKey ?? key) === key)
          return { output: own.output as Record<string, unknown> };
      }
      if (!request.context.cache) return undefined;
      const hit = await store.steps.lookupCache(SYSTEM, key);
      if (!hit) return undefined;
      // A result whose files are gone (a cleaned artifact folder) is no result: run the step.
      for (const { sha256 } of hit.outputs) if (!(await artifacts.has(artifactUri(sha256)))) return undefined;
      await store.steps.recordCacheHit(SYSTEM, { ...identity(request), cacheKey: key, from: hit.executionId });
      return { output: hit.output as Record<string, unknown>, cached: { runId: hit.runId, node: hit.nodeId } };
    },

    started(request, key, attempt) {
      return write.start({ ...identity(request), attempt, ...(request.context.cache ? { cacheKey: key } : {}) });
    },

    settle(request) {
      return write.settle({ runId: request.context.workflowId, nodeId: request.context.node });
    },

    async succeeded(request, _key, envelope, sources: SourceRef[]) {
      const inputs = findRefs(request.input);
      // A ref passed through (tune.select's best model) was read, not made: its producer stays the step that wrote it.
      const read = new Set(inputs.map((r) => r.artifact.sha256));
      const outputs = findRefs(envelope.output).filter((r) => !read.has(r.artifact.sha256));
      await write.finish({
        runId: request.context.workflowId,
        nodeId: request.context.node,
        status: 'succeeded',
        attempt: envelope.attempt,
        output: envelope.output,
        artifacts: [
          ...sources.map(({ kind, uri, sha256, size }) => ({ kind, uri, sha256, size })),
          ...inputs.map((r) => r.artifact),
          ...outputs.map((r) => r.artifact),
        ],
        lineage: {
          inputs: [
            ...sources.map((s) => ({ sha256: s.sha256, port: 'source' })),
            ...inputs.map((r) => ({ sha256: r.artifact.sha256, port: r.port })),
          ],
          outputs: outputs.map((r) => ({ sha256: r.artifact.sha256, port: r.port })),
        },
      });
    },
  };
}
