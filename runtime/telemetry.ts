import { trace } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Context as ActivityContext } from '@temporalio/activity';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next, WorkerOptions } from '@temporalio/worker';
import type { StepEnvelope, StepRequest } from '../workflows/protocol';

/**
 * OpenTelemetry tracing for a Kiln process: the client's start of a run, the `runPipeline`
 * workflow and each step activity share one trace, propagated by Temporal's interceptors in
 * headers. The SDK and the interceptors load only when tracing is on.
 */
export interface Tracing {
  readonly serviceName: string;
  /** Spread into `Worker.create`: activity interceptors and the sink workflow spans leave the sandbox by. */
  readonly worker: Required<Pick<WorkerOptions, 'interceptors' | 'sinks'>>;
  /** For a `Client`'s `interceptors.workflow`: a span per start, signal or query, its context sent in the headers. */
  readonly client: WorkflowClientInterceptor[];
  /** Exports the spans still batched; a short-lived process calls it before exiting. */
  flush(): Promise<void>;
}

/** True when the environment asks for traces: an OTLP endpoint, or an exporter named in OTEL_TRACES_EXPORTER other than `none`. */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = env.OTEL_TRACES_EXPORTER?.trim();
  if (exporters) return exporters !== 'none';
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/**
 * Tracing configured by the standard OTEL_* variables (exporter, protocol, endpoint, headers,
 * resource attributes), or undefined when they ask for none. OTEL_SERVICE_NAME overrides
 * `serviceName` (`kiln-worker`, `kiln-cli`).
 */
export async function tracingFromEnv(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Tracing | undefined> {
  if (!tracingRequested(env)) return undefined;
  // The SDK's own reading of OTEL_TRACES_EXPORTER and the OTLP protocol (getSpanProcessorsFromEnv),
  // which its index does not re-export: this deep path holds only because package.json pins
  // @opentelemetry/sdk-node exactly (0.57.2); check it when upgrading.
  const { getSpanProcessorsFromEnv } = await import('@opentelemetry/sdk-node/build/src/utils');
  const spanProcessors = getSpanProcessorsFromEnv();
  if (spanProcessors.length === 0) return undefined;
  return startTracing({ serviceName: env.OTEL_SERVICE_NAME?.trim() || serviceName, spanProcessors });
}

let started: Promise<Tracing> | undefined;

/**
 * Registers a global tracer provider exporting through `spanProcessors`. One per process: a
 * later call gets the first one, whatever its options. Spans left are flushed before the process exits.
 */
export function startTracing(options: { serviceName: string; spanProcessors: SpanProcessor[] }): Promise<Tracing> {
  started ??= register(options);
  return started;
}

async function register({
  serviceName,
  spanProcessors,
}: {
  serviceName: string;
  spanProcessors: SpanProcessor[];
}): Promise<Tracing> {
  const [
    { NodeTracerProvider },
    { Resource, detectResourcesSync, envDetectorSync, hostDetectorSync, processDetectorSync },
    otel,
  ] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/resources'),
    import('@temporalio/interceptors-opentelemetry'),
  ]);
  // Resource attributes from OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME win over ours.
  const resource = Resource.default()
    .merge(new Resource({ 'service.name': serviceName }))
    .merge(detectResourcesSync({ detectors: [processDetectorSync, hostDetectorSync, envDetectorSync] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors, mergeResourceWithDefaults: false });
  provider.register();
  process.once('beforeExit', () => void provider.shutdown());
  return {
    serviceName: String(resource.attributes['service.name']),
    worker: {
      interceptors: {
        activity: [
          (ctx) => ({
            inbound: new otel.OpenTelemetryActivityInboundInterceptor(ctx),
            outbound: new otel.OpenTelemetryActivityOutboundInterceptor(ctx),
          }),
          (ctx) => ({ inbound: new StepAttributes(ctx) }),
        ],
      },
      sinks: { exporter: otel.makeWorkflowExporter(provider.getActiveSpanProcessor(), resource) },
    },
    client: [new otel.OpenTelemetryWorkflowClientInterceptor()],
    flush: () => provider.forceFlush(),
  };
}

const isStepRequest = (arg: unknown): arg is StepRequest =>
  typeof (arg as Partial<StepRequest> | undefined)?.context?.step?.name === 'string';

/** Puts the Kiln names on a step activity's span; runs inside the OpenTelemetry interceptor, whose span is active. */
class StepAttributes implements ActivityInboundCallsInterceptor {
  constructor(private readonly ctx: ActivityContext) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const span = trace.getActiveSpan();
    const request = input.args[0];
    if (!span || !isStepRequest(request)) return next(input);
    const { pipeline, node, step } = request.context;
    span.setAttributes({
      'kiln.pipeline': pipeline,
      'kiln.node': node,
      'kiln.step': step.name,
      'kiln.step.version': step.version,
      'kiln.attempt': this.ctx.info.attempt,
    });
    const envelope = (await next(input)) as StepEnvelope;
    span.setAttribute('kiln.cached', envelope.cached !== undefined);
    if (envelope.cached)
      span.setAttributes({ 'kiln.cached.run': envelope.cached.runId, 'kiln.cached.node': envelope.cached.node });
    return envelope;
  }
}
