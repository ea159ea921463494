import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { z } from 'zod';
import { compile, cond, pipeline, type Handle } from '../../dsl';
import { approveUpdate, runPipeline, statusQuery } from '../../workflows';
import type { RunSnapshot } from '../../workflows/protocol';
import { engine } from '../fixtures/engine';
import { add, executions, fail, flaky, list, noop, slow, testSteps } from '../fixtures/steps';

let kiln: Awaited<ReturnType<typeof engine>>;
before(async () => {
  kiln = await engine(testSteps);
});
after(async () => {
  await kiln?.stop();
});

const failureOf = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => assert.fail('expected the run to fail'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(error)}`);
  return error.cause;
};

const waitFor = async <T>(probe: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
};

const node = (status: RunSnapshot | { nodes: RunSnapshot['nodes'] }, id: string) =>
  status.nodes.find((n) => n.id === id)!;

describe('runPipeline on a real Temporal server', () => {
  it('runs a chain, passing outputs and parameters downstream', async () => {
    const chain = pipeline({ name: 'chain', params: z.object({ start: z.number().default(1) }) }, (p, params) => {
      const a = p.step(add, { a: params.start, b: 2 });
      return { sum: p.step(add, { a: a.sum, b: 10 }, { id: 'second' }).sum };
    });
    const result = await (await kiln.start(chain, { start: 5 })).result();
    assert.deepEqual(result.output, { sum: 17 });
    assert.deepEqual(
      result.nodes.map((n) => [n.id, n.status]),
      [
        ['add', 'succeeded'],
        ['second', 'succeeded'],
      ],
    );
  });

  it('retries a step that fails twice and reports it succeeded on attempt 3', async () => {
    const key = `flaky-${Date.now()}`;
    const retried = pipeline({ name: 'retried' }, (p) => p.step(flaky, { key, failTimes: 2 }));
    const result = await (await kiln.start(retried)).result();
    assert.equal(node(result, 'flaky').status, 'succeeded');
    assert.equal(node(result, 'flaky').attempts, 3);
    assert.equal(executions.get(key), 3);
  });

  it('fails the run on a non-retryable failure with its type and message, without retrying', async () => {
    const failing = pipeline({ name: 'failing' }, (p) => {
      const first = p.step(fail, { type: 'GateFailed', message: 'AUC 0.61 is below the gate 0.75' });
      p.step(noop, { after: first });
    });
    const handle = await kiln.start(failing);
    const cause = await failureOf(handle.result());
    assert.ok(cause instanceof ApplicationFailure);
    assert.equal(cause.type, 'GateFailed');
    assert.match(cause.message, /step 'fail' failed: AUC 0.61 is below the gate 0.75/);
    const status = await handle.query(statusQuery);
    assert.equal(status.status, 'failed');
    assert.equal(node(status, 'fail').attempts, 1);
    assert.deepEqual(node(status, 'fail').error, { type: 'GateFailed', message: 'AUC 0.61 is below the gate 0.75' });
    assert.equal(node(status, 'noop').status, 'cancelled');
  });

  it('fans out over a list known only at run time and joins the results in order', async () => {
    const fan = pipeline({ name: 'fan' }, (p) => {
      const items = p.step(list, { n: 5 });
      return p.map(items.items, (item) => p.step(add, { a: item.x, b: 100 }).sum, { id: 'trials', parallelism: 2 });
    });
    const result = await (await kiln.start(fan)).result();
    assert.deepEqual(result.output, [100, 101, 102, 103, 104]);
    assert.equal(node(result, 'trials').items, 5);
    assert.equal(node(result, 'trials[4].add').status, 'succeeded');
  });

  it('skips nodes whose condition is false, and nodes downstream of them', async () => {
    const gated = pipeline({ name: 'gated', params: z.object({ deploy: z.boolean().default(false) }) }, (p, params) => {
      const a = p.step(add, { a: 1, b: 1 });
      p.when(params.deploy, () => {
        const b = p.step(add, { a: a.sum, b: 1 }, { id: 'deploy' });
        p.step(noop, { after: b.sum });
      });
      p.when(cond(a.sum, '==', 2), () => {
        p.step(noop, {}, { id: 'report' });
      });
    });
    const result = await (await kiln.start(gated)).result();
    assert.equal(node(result, 'deploy').status, 'skipped');
    assert.match(node(result, 'deploy').skippedBecause!, /params.deploy/);
    assert.equal(node(result, 'noop').status, 'skipped');
    assert.equal(node(result, 'report').status, 'succeeded');
  });

  it('starts a step declared `after` another only once that one succeeded, and skips it with it', async () => {
    const key = `after-${Date.now()}`;
    const ordered = pipeline(
      { name: 'ordered', params: z.object({ check: z.boolean().default(true) }) },
      (p, params) => {
        const checks: Handle<unknown>[] = [];
        p.when(params.check, () => {
          checks.push(p.step(slow, { key, ms: 500 }, { id: 'check' }).done);
        });
        // Outside the condition: only `after` ties it to the check.
        p.step(add, { a: 1, b: 2 }, { id: 'after', after: checks });
      },
    );
    const waited = await (await kiln.start(ordered)).result();
    assert.equal(node(waited, 'after').status, 'succeeded');
    assert.ok(
      node(waited, 'after').startedAt! >= node(waited, 'check').finishedAt!,
      'it started after the check finished',
    );
    const skipped = await (await kiln.start(ordered, { check: false })).result();
    assert.equal(node(skipped, 'after').status, 'skipped');
    assert.match(node(skipped, 'after').skippedBecause!, /'check' was skipped/);
  });

  it('refuses a plan naming a step no worker defines, naming the node', async () => {
    const plan = compile(
      pipeline({ name: 'unknown' }, (p) => {
        p.step(add, { a: 1, b: 2 });
      }),
    );
    const node0 = plan.nodes[0]!;
    if (node0.type === 'step') node0.step.name = 'test.missing';
    const handle = await kiln.client.workflow.start(runPipeline, {
      taskQueue: kiln.taskQueue,
      workflowId: `unknown-${Date.now()}`,
      args: [{ plan }],
    });
    const cause = await failureOf(handle.result());
    assert.ok(cause instanceof ApplicationFailure);
    assert.equal(cause.type, 'InvalidPlan');
    assert.match(cause.message, /step 'add', field 'step': unknown step 'test.missing'/);
  });

  it('fails a JSON plan with an unreadable approval timeout at once, naming the gate', async () => {
    const plan = compile(
      pipeline({ name: 'bad-timeout' }, (p) => {
        const a = p.step(add, { a: 1, b: 2 });
        p.approval('release', { after: [a.sum], timeout: '1h' });
      }),
    );
    const gate = plan.nodes.find((n) => n.type === 'approval')!;
    if (gate.type === 'approval') gate.timeout = 'a fortnight';
    const handle = await kiln.client.workflow.start(runPipeline, {
      taskQueue: kiln.taskQueue,
      workflowId: `bad-timeout-${Date.now()}`,
      args: [{ plan }],
    });
    const cause = await failureOf(handle.result());
    assert.ok(cause instanceof ApplicationFailure);
    assert.equal(cause.type, 'InvalidPlan');
    assert.match(cause.message, /step 'release', field 'timeout': "a fortnight" is not a duration/);
  });

  it('refuses a run option parallelism of 0, which would wait forever', async () => {
    const handle = await kiln.start(
      pipeline({ name: 'no-lanes' }, (p) => p.step(add, { a: 1, b: 2 })),
      {},
      { parallelism: 0 },
    );
    const cause = await failureOf(handle.result());
    assert.ok(cause instanceof ApplicationFailure);
    assert.equal(cause.type, 'InvalidParams');
  });

  it('continues as new on a long chain without running finished steps again', async () => {
    const key = `can-${Date.now()}`;
    const long = pipeline({ name: 'long' }, (p) => {
      let sum = p.step(flaky, { key: `${key}-0`, failTimes: 0 }, { id: 's0' }).attempts;
      for (let i = 1; i < 25; i++) sum = p.step(add, { a: sum, b: 1 }, { id: `s${i}` }).sum;
      return sum;
    });
    const handle = await kiln.start(long, {}, { maxHistoryEvents: 40 });
    const result = await handle.result();
    assert.equal(result.output, 25);
    assert.equal(executions.get(`${key}-0`), 1);
    const status = await handle.query(statusQuery);
    assert.ok(status.generation >= 2, `expected at least two continue-as-new, got ${status.generation}`);
    assert.equal(status.nodes.filter((n) => n.status === 'succeeded').length, 25);
  });

  it('cancels running steps when the run is cancelled', async () => {
    const key = `cancel-${Date.now()}`;
    const long = pipeline({ name: 'cancelled' }, (p) => {
      p.step(slow, { key, ms: 60_000 });
    });
    const handle = await kiln.start(long);
    await waitFor(
      async () => ((await handle.query(statusQuery)).nodes[0]?.status === 'running' ? true : undefined),
      'the slow step to start',
    );
    await handle.cancel();
    const cause = await failureOf(handle.result());
    assert.ok(cause instanceof CancelledFailure);
    const status = await handle.query(statusQuery);
    assert.equal(status.status, 'cancelled');
    assert.equal(node(status, 'slow').status, 'cancelled');
  });
});

describe('approval gates', () => {
  const gated = pipeline({ name: 'approval' }, (p) => {
    const score = p.step(add, { a: 40, b: 2 });
    const ok = p.approval('release', { show: { score: score.sum }, timeout: '3s' });
    return p.step(noop, { after: ok.by });
  });
  const waiting = async (handle: Awaited<ReturnType<typeof kiln.start>>) =>
    waitFor(async () => {
      const state = node(await handle.query(statusQuery), 'release');
      return state?.status === 'waiting' ? state : undefined;
    }, 'the gate to wait');

  it('waits, shows what is under review, and continues once approved', async () => {
    const handle = await kiln.start(gated);
    const state = await waiting(handle);
    assert.deepEqual(state.gate?.show, { score: 42 });
    await handle.executeUpdate(approveUpdate, {
      args: [{ gate: 'release', approved: true, by: 'alice', comment: 'looks good' }],
    });
    const result = await handle.result();
    assert.equal(node(result, 'release').status, 'succeeded');
    assert.deepEqual(node(result, 'release').gate?.decision, {
      gate: 'release',
      approved: true,
      by: 'alice',
      comment: 'looks good',
    });
    assert.equal(node(result, 'noop').status, 'succeeded');
  });

  it('refuses a decision without an approver, or for a gate that does not exist', async () => {
    const handle = await kiln.start(gated);
    await waiting(handle);
    const refusal = (pattern: RegExp) => (e: Error) => pattern.test((e.cause as Error)?.message ?? '');
    await assert.rejects(
      handle.executeUpdate(approveUpdate, { args: [{ gate: 'release', approved: true, by: ' ' }] }),
      refusal(/names who made it/),
    );
    await assert.rejects(
      handle.executeUpdate(approveUpdate, { args: [{ gate: 'deploy', approved: true, by: 'bob' }] }),
      refusal(/no approval gate 'deploy'.*gates: release/),
    );
    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'release', approved: true, by: 'bob' }] });
    await handle.result();
  });

  it('fails the run when rejected, naming who rejected and why', async () => {
    const handle = await kiln.start(gated);
    await waiting(handle);
    await handle.executeUpdate(approveUpdate, {
      args: [{ gate: 'release', approved: false, by: 'carol', comment: 'fairness gap too wide' }],
    });
    const cause = await failureOf(handle.result());
    assert.ok(cause instanceof ApplicationFailure);
    assert.equal(cause.type, 'ApprovalRejected');
    assert.match(cause.message, /rejected by carol: fairness gap too wide/);
    assert.equal(node(await handle.query(statusQuery), 'noop').status, 'cancelled');
  });

  it('fails the run when nobody decides before the timeout', async () => {
    const handle = await kiln.start(gated);
    const cause = await failureOf(handle.result());
    assert.ok(cause instanceof ApplicationFailure);
    assert.equal(cause.type, 'ApprovalTimedOut');
    assert.match(cause.message, /no decision within 3s/);
  });
});
