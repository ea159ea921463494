import { trace } from '@opentelemetry/api';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import type {
  Next,
  QueryInput,
  WorkflowExecuteInput,
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptorsFactory,
} from '@temporalio/workflow';
import type { RunInput } from './protocol';

// Bundled only into a traced worker's workflow code (workers/bundle.ts). Spans leave the sandbox
// through the worker's `exporter` sink; they add headers to commands, never commands, so a run
// traced on one worker replays on an untraced one.

// `kiln run` and the console poll the status query; a span for each poll would bury the runs.
class RunSpans extends OpenTelemetryInboundInterceptor {
  override handleQuery(input: QueryInput, next: Next<WorkflowInboundCallsInterceptor, 'handleQuery'>) {
    return next(input);
  }
}

class PipelineAttributes implements WorkflowInboundCallsInterceptor {
  execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>) {
    const run = input.args[0] as Partial<RunInput> | undefined;
    if (typeof run?.plan?.name === 'string')
      trace.getActiveSpan()?.setAttributes({ 'kiln.pipeline': run.plan.name, 'kiln.plan': run.plan.hash });
    return next(input);
  }
}

// Order matters: the OpenTelemetry interceptor comes first so that its span is active for ours.
export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [new RunSpans(), new PipelineAttributes()],
  outbound: [new OpenTelemetryOutboundInterceptor()],
  internals: [new OpenTelemetryInternalsInterceptor()],
});
