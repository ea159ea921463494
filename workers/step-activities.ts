import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { cacheKey } from '../store/cache-key';
import type { Store } from '../store';
import type { ArtifactStore } from '../activities/artifacts/store';
import type { StepContext, StepImpl } from '../activities/library';
import type { StepEnvelope, StepRequest } from '../workflows/protocol';

/** Where the worker records steps and finds cached results; the store implements it. */
export interface StepRecorder {
  cached(request: StepRequest, key: string): Promise<StepEnvelope['cached'] & { output: Record<string, unknown> } | undefined>;
  started(request: StepRequest, key: string, attempt: number): Promise<void>;
  succeeded(request: StepRequest, key: string, envelope: StepEnvelope): Promise<void>;
  failed(request: StepRequest, key: string, attempt: number, error: { type: string; message: string }, final: boolean): Promise<void>;
}

const invalid = (request: StepRequest, what: 'input' | 'output', error: z.ZodError) =>
  ApplicationFailure.nonRetryable(
    `step '${request.context.node}' (${request.context.step.name}): invalid ${what}: ${z.prettifyError(error).replace(/\n/g, '; ')}`,
    what === 'input' ? 'InvalidInput' : 'InvalidOutput',
  );

/**
 * Turns step implementations into Temporal activities: checks input and output against the
 * step's schemas (data crossing a process boundary), reuses cached results, records each
 * attempt, and reports the attempt that succeeded.
 */
export function stepActivities(steps: StepImpl[], deps: { artifacts: ArtifactStore; recorder?: StepRecorder; store?: Store }) {
  const activities: Record<string, (request: StepRequest) => Promise<StepEnvelope>> = {};
  for (const impl of steps) {
    if (activities[impl.def.name]) throw new Error(`two implementations of step '${impl.def.name}'`);
    activities[impl.def.name] = async (request) => {
      const context = Context.current();
      const attempt = context.info.attempt;
      const parsed = impl.def.input.safeParse(request.input);
      if (!parsed.success) throw invalid(request, 'input', parsed.error);
      const { recorder } = deps;
      const key = recorder ? cacheKey(request.context.step, request.input) : '';
      if (recorder && request.context.cache) {
        const hit = await recorder.cached(request, key);
        if (hit) {
          const envelope = { output: hit.output, attempt, cached: { runId: hit.runId, node: hit.node } };
          await recorder.succeeded(request, key, envelope);
          return envelope;
        }
      }
      await recorder?.started(request, key, attempt);
      const ctx: StepContext = {
        artifacts: deps.artifacts,
        heartbeat: (details) => context.heartbeat(details),
        signal: context.cancellationSignal,
        log: (message, fields) => context.log.info(message, { node: request.context.node, ...fields }),
        run: { workflowId: request.context.workflowId, runId: request.context.runId, pipeline: request.context.pipeline, node: request.context.node },
        ...(deps.store ? { store: deps.store } : {}),
      };
      try {
        const output = impl.def.output.safeParse(await impl.run(parsed.data, ctx));
        if (!output.success) throw invalid(request, 'output', output.error);
        const envelope: StepEnvelope = { output: output.data as Record<string, unknown>, attempt };
        await recorder?.succeeded(request, key, envelope);
        return envelope;
      } catch (error) {
        if (recorder) {
          const failure = error instanceof ApplicationFailure ? { type: error.type ?? 'Error', message: error.message } : { type: (error as Error).name, message: (error as Error).message };
          const maxAttempts = context.info.retryPolicy?.maximumAttempts;
          const final = (error instanceof ApplicationFailure && error.nonRetryable) || (maxAttempts !== undefined && maxAttempts > 0 && attempt >= maxAttempts);
          await recorder.failed(request, key, attempt, failure, final);
        }
        throw error;
      }
    };
  }
  return activities;
}

/** The local activity the workflow asks which steps exist, to refuse a plan naming an unknown one. */
export const catalogActivity = (steps: StepImpl[]) => ({
  'kiln.catalog': async () => steps.map((s) => s.def.name),
});
