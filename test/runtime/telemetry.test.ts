import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Worker } from '@temporalio/worker';
import { z } from 'zod';
import { startRun } from '../../cli/start-run';
import { compile, pipeline } from '../../dsl';
import type { Store } from '../../store';
import { testBackends } from '../support/backends';
import { workflowBundle } from '../../workers/bundle';
import { startTracing, tracingRequested, type Tracing } from '../../runtime/telemetry';
import { engine } from '../fixtures/engine';
import { add, flaky, noop, testSteps } from '../fixtures/steps';

const traced = pipeline({ name: 'traced', params: z.object({ a: z.number(), key: z.string() }) }, (p, params) => {
  const sum = p.step(add, { a: params.a, b: 2 });
  const retried = p.step(flaky, { key: params.key, failTimes: 1 });
  const done = p.step(noop, { after: sum.sum });
  return { sum: sum.sum, attempts: retried.attempts, ok: done.ok };
});

const memory = new InMemorySpanExporter();
const backend = testBackends().find((b) => b.name === 'pglite')!;
let tracing: Tracing;
let store: Store;
let kiln: Awaited<ReturnType<typeof engine>>;

before(async () => {
  tracing = await startTracing({ serviceName: 'kiln-test', spanProcessors: [new SimpleSpanProcessor(memory)] });
  store = await backend.open();
  kiln = await engine(testSteps, { store, tracing });
});
after(async () => {
  await kiln?.stop();
  await backend.close();
});

// Workflow spans reach the exporter through a sink, a moment after the run's result.
async function traceOf(workflowId: string): Promise<ReadableSpan[]> {
  const end = Date.now() + 10_000;
  while (Date.now() < end) {
    const spans = memory.getFinishedSpans();
    const start = spans.find(
      (s) => s.name === 'StartWorkflow:runPipeline' && s.attributes.temporalWorkflowId === workflowId,
    );
    const trace = start && spans.filter((s) => s.spanContext().traceId === start.spanContext().traceId);
    if (trace?.some((s) => s.name === 'RunWorkflow:runPipeline')) return trace;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `no complete trace for ${workflowId}: spans seen ${memory
      .getFinishedSpans()
      .map((s) => s.name)
      .join(', ')}`,
  );
}

const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
const one = (spans: ReadableSpan[], name: string) => {
  const found = named(spans, name);
  assert.equal(found.length, 1, `one ${name} span, got ${found.length}`);
  return found[0]!;
};
const parentOf = (spans: ReadableSpan[], span: ReadableSpan) =>
  spans.find((s) => s.spanContext().spanId === span.parentSpanId);

describe('tracing a run with OpenTelemetry on a real Temporal server', () => {
  const key = `traced-${Date.now()}`;
  let firstId: string;

  it('links the start of a run, the workflow and every step attempt in one trace', async () => {
    const handle = await startRun(kiln.client, kiln.taskQueue, compile(traced), { a: 40, key }, { tracing });
    firstId = handle.workflowId;
    const result = await handle.result();
    assert.deepEqual(result.output, { sum: 42, attempts: 2, ok: true });
    const spans = await traceOf(firstId);

    const start = one(spans, 'StartWorkflow:runPipeline');
    assert.equal(start.parentSpanId, undefined, 'the client start is the root of the trace');
    const run = one(spans, 'RunWorkflow:runPipeline');
    assert.equal(run.parentSpanId, start.spanContext().spanId);
    assert.deepEqual([run.attributes['kiln.pipeline'], run.attributes['kiln.plan']], ['traced', compile(traced).hash]);

    const steps = spans.filter((s) => s.name.startsWith('RunActivity:test.'));
    assert.deepEqual(steps.map((s) => s.name).sort(), [
      'RunActivity:test.add',
      'RunActivity:test.flaky',
      'RunActivity:test.flaky',
      'RunActivity:test.noop',
    ]);
    for (const step of steps) {
      const scheduled = parentOf(spans, step);
      assert.equal(
        scheduled?.name,
        step.name.replace('RunActivity', 'StartActivity'),
        `${step.name} is a child of its scheduling span`,
      );
      assert.equal(parentOf(spans, scheduled!)?.name, 'RunWorkflow:runPipeline');
      assert.equal(step.resource.attributes['service.name'], 'kiln-test');
    }
  });

  it('names the pipeline, node, step, version and attempt on each step span, and says it ran', async () => {
    const spans = await traceOf(firstId);
    const kilnAttributes = (s: ReadableSpan) =>
      Object.fromEntries(Object.entries(s.attributes).filter(([k]) => k.startsWith('kiln.')));
    const sum = one(spans, 'RunActivity:test.add');
    assert.deepEqual(kilnAttributes(sum), {
      'kiln.pipeline': 'traced',
      'kiln.node': 'add',
      'kiln.step': 'test.add',
      'kiln.step.version': '1',
      'kiln.attempt': 1,
      'kiln.cached': false,
    });
    assert.equal(sum.attributes.temporalWorkflowId, firstId);

    const [failed, retried] = named(spans, 'RunActivity:test.flaky').sort(
      (a, b) => Number(a.attributes['kiln.attempt']) - Number(b.attributes['kiln.attempt']),
    );
    assert.deepEqual([failed!.attributes['kiln.attempt'], retried!.attributes['kiln.attempt']], [1, 2]);
    assert.equal(failed!.status.message, 'flaky failure 1 of 1', 'the failed attempt carries its error');
    assert.equal(failed!.attributes['kiln.cached'], undefined, 'a failed attempt produced no result');
    assert.equal(retried!.attributes['kiln.cached'], false);
    assert.equal(retried!.attributes['kiln.node'], 'flaky');
  });

  it('marks step spans cached when a second identical run reuses the recorded results', async () => {
    const handle = await startRun(kiln.client, kiln.taskQueue, compile(traced), { a: 40, key }, { tracing });
    await handle.result();
    const spans = await traceOf(handle.workflowId);
    assert.notEqual(
      one(spans, 'StartWorkflow:runPipeline').spanContext().traceId,
      one(await traceOf(firstId), 'StartWorkflow:runPipeline').spanContext().traceId,
      'each run has its own trace',
    );
    const steps = spans.filter((s) => s.name.startsWith('RunActivity:test.'));
    assert.equal(steps.length, 3, 'one span per step: none failed, none retried');
    for (const step of steps) {
      assert.equal(step.attributes['kiln.cached'], true, `${step.name} reused a result`);
      assert.equal(step.attributes['kiln.cached.run'], firstId);
      assert.equal(step.attributes['kiln.cached.node'], step.attributes['kiln.node']);
    }
  });

  it('replays a traced run on a worker without tracing', async () => {
    const history = await kiln.client.workflow.getHandle(firstId).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, firstId);
  });
});

describe('tracing off', () => {
  it('is on only when the environment names an OTLP endpoint or an exporter', () => {
    assert.equal(tracingRequested({}), false);
    assert.equal(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318' }), true);
    assert.equal(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://localhost:4318/v1/traces' }), true);
    assert.equal(tracingRequested({ OTEL_TRACES_EXPORTER: 'console' }), true);
    assert.equal(
      tracingRequested({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318' }),
      false,
    );
    assert.equal(
      tracingRequested({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318' }),
      false,
    );
  });

  it('leaves OpenTelemetry out of an untraced workflow bundle', async () => {
    const [plain, withSpans] = await Promise.all([workflowBundle(), workflowBundle({ traced: true })]);
    assert.doesNotMatch(plain.code, /OpenTelemetryInboundInterceptor/);
    assert.match(withSpans.code, /OpenTelemetryInboundInterceptor/);
  });
});
