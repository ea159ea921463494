import type { z } from 'zod';
import type { StepDef } from '../../dsl';
import type { ArtifactStore } from '../../activities/artifacts/store';
import type { StepContext, StepImpl } from '../../activities/library';

/**
 * Runs a step's own implementation in this process, as a worker would run its activity: the input
 * parsed by the step's schema, artifacts in `artifacts` (a scratch store), no store and no heartbeats.
 */
export async function runStep<D extends StepDef>(
  impl: StepImpl<D>,
  input: unknown,
  where: { artifacts: ArtifactStore; pipeline: string; node: string },
): Promise<z.input<D['output']>> {
  const context: StepContext = {
    artifacts: where.artifacts,
    heartbeat: () => {},
    signal: new AbortController().signal,
    log: () => {},
    readFrom: () => {},
    run: { workflowId: 'kiln-check', runId: 'kiln-check', pipeline: where.pipeline, node: where.node },
  };
  return impl.run(impl.def.input.parse(input) as z.output<D['input']>, context);
}
