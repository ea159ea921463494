import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { deploySteps } from '../../activities/deploy';
import { deploy, type RolloutStrategy } from '../../activities/deploy/steps';
import { pipeline } from '../../dsl';
import type { ModelServer } from '../../serving';
import { eq } from 'drizzle-orm';
import { SYSTEM, type Store } from '../../store';
import { deployments } from '../../store/schema';
import { compile } from '../../dsl';
import { rolloutDecideUpdate, rolloutStatusQuery, runPipeline } from '../../workflows';
import { decideRollout, describeRollout, rollbackDeployment } from '../../cli/deploy';
import { engine } from '../fixtures/engine';
import { approveWhenWaiting } from '../fixtures/gates';
import {
  brokenModel,
  features,
  post,
  register,
  shiftedModel,
  startServer,
  trainCreditModel,
} from '../serving/credit-model';
import { testBackends } from '../support/backends';
import { testContext } from '../support/step-context';

// Rollouts on a real dev server, store and model server: a canary whose candidate answers like the
// current version is promoted by itself; one whose answers shift is rolled back by itself; a shadow
// answers only with the current version while logging both; a person can abort one in flight.

type Ctx = Awaited<ReturnType<typeof testContext>>;
let ctx: Ctx;
const shifts = { close: 0.02, far: 3, closer: -0.02, shadowed: 0.01, aborted: 0.03 };
let versions: Record<keyof typeof shifts, number>;

const release = (strategy: RolloutStrategy) =>
  pipeline({ name: 'release-rollout', params: z.object({ version: z.number().int() }) }, (p, params) => {
    const approval = p.approval('release', { show: { version: params.version }, timeout: '10m' });
    return p.step(deploy, { name: 'credit-risk', version: params.version, approval, strategy }, { id: 'deploy' });
  });

const canary = (window = '5s') =>
  release({
    canary: {
      percent: 50,
      window,
      checkEvery: '1s',
      minRequests: 30,
      gates: [
        { metric: 'predictionPsi', max: 0.5 },
        { metric: 'p99LatencyMs', max: 2_000 },
      ],
    },
  });

before(async () => {
  ctx = await testContext();
});
const children: ChildProcess[] = [];
after(async () => {
  children.forEach((c) => c.kill('SIGKILL'));
  await ctx.dispose();
});

/** A worker process on `taskQueue` recording in the PostgreSQL store at `url`; resolves once it polls. */
function workerProcess(address: string, taskQueue: string, url: string): Promise<ChildProcess> {
  const script = join(import.meta.dirname, '../fixtures/worker-process.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, address, taskQueue, ctx.artifacts.root, url], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve(child));
    child.once('exit', (code) => reject(new Error(`worker process exited with ${code} before it was ready`)));
  });
}

/** Waits until the rollout of `run`'s deploy node watches its candidate. */
async function observing(client: Awaited<ReturnType<typeof engine>>['client'], run: string) {
  const child = client.workflow.getHandle(`${run}/deploy`);
  for (let i = 0; i < 300; i++) {
    if ((await child.query(rolloutStatusQuery).catch(() => undefined))?.state === 'observing') return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the rollout of ${run} never started observing`);
}

for (const backend of testBackends()) {
  describe(`rollouts on ${backend.name}`, () => {
    let store: Store;
    let kiln: Awaited<ReturnType<typeof engine>>;
    let server: ModelServer;
    let predict: string;

    before(async () => {
      store = await backend.open();
      const credit = await trainCreditModel(ctx);
      await register(ctx, store, credit.model, 'credit-risk', 'production');
      versions = { close: 0, far: 0, closer: 0, shadowed: 0, aborted: 0 };
      for (const key of Object.keys(shifts) as (keyof typeof shifts)[])
        versions[key] = await register(ctx, store, await shiftedModel(ctx.artifacts, credit, shifts[key]));
      await store.access.createToken(SYSTEM, { name: 'alice', role: 'approver' });
      kiln = await engine(deploySteps, { store });
      let url: string;
      // The server has its own connections, as `kiln serve` in its own process would.
      ({ server, url } = await startServer(ctx, await backend.openAnother(), { log: { flushMs: 20, hashKey: 'k' } }));
      predict = `${url}/v1/models/credit-risk/predict`;
      rows = credit.holdout.map(features);
    });
    after(async () => {
      await server?.close();
      await kiln?.stop();
      await backend.close();
    });

    let rows: Record<string, unknown>[] = [];
    /** Clients sending held-out rows until the run ends; every answer is kept. */
    async function traffic(handle: WorkflowHandle<typeof runPipeline>) {
      const answers: Array<{ status: number; version: unknown }> = [];
      let done = false;
      const result = handle.result().finally(() => {
        done = true;
      });
      const client = async (offset: number) => {
        for (let i = offset; !done && i < offset + 5_000; i++) {
          const answer = await post(predict, rows[i % rows.length]);
          answers.push({ status: answer.status, version: answer.body.version });
          await new Promise((r) => setTimeout(r, 10));
        }
      };
      await Promise.all([client(0), client(50), result.catch(() => undefined)]);
      return { answers, result };
    }

    const start = async (def: ReturnType<typeof release>, version: number) => {
      const handle = await kiln.start(def, { version });
      await approveWhenWaiting(handle, 'alice', { store });
      return handle;
    };

    const holder = async () => (await store.serving.servedVersions(SYSTEM, 'credit-risk', 'production'))!;

    it('promotes a canary whose answers match the current version, as the approver, and audits why', async () => {
      const handle = await start(canary(), versions.close);
      const { answers, result } = await traffic(handle);
      const run = await result;
      assert.equal(run.output && (run.output as { decision: string }).decision, 'promoted');
      assert.ok(answers.every((a) => a.status === 200));
      assert.ok(
        answers.some((a) => a.version === versions.close),
        'the canary took a share of the traffic',
      );
      assert.deepEqual(await holder(), { current: versions.close, split: null });
      const [decision] = await store.audit.listAudit(SYSTEM, { action: 'deployment.promote' });
      assert.equal(decision?.actor, 'alice');
      const after = decision?.after as { checks: { candidate: { requests: number } }; reason: string };
      assert.match(after.reason, /every gate held/);
      assert.ok(after.checks.candidate.requests >= 5);
      const [deployed] = await store.db
        .select()
        .from(deployments)
        .where(eq(deployments.key, `${handle.workflowId}/deploy`));
      assert.deepEqual(
        [deployed?.status, deployed?.strategy, deployed?.target, deployed?.deployedBy],
        ['promoted', 'canary', 'production', 'alice'],
      );
      const [step] = await store.steps
        .listSteps(SYSTEM, handle.workflowId)
        .then((s) => s.filter((r) => r.nodeId === 'deploy'));
      assert.equal(step?.status, 'succeeded');
    });

    it('rolls back a canary whose predictions shift, by itself, failing the step with the gate and its number', async () => {
      const before = await holder();
      const handle = await start(canary('20s'), versions.far);
      const { answers, result } = await traffic(handle);
      const error = await result.then(
        () => assert.fail('the rollout should have been rolled back'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof WorkflowFailedError);
      const cause = error.cause as ApplicationFailure;
      assert.equal(cause.type, 'RolloutGateFailed');
      assert.match(cause.message, /predictionPsi \d+\.\d+ > 0\.5/);
      assert.ok(answers.every((a) => a.status === 200));
      assert.deepEqual(await holder(), { current: before.current, split: null });
      const [rolledBack] = await store.audit.listAudit(SYSTEM, { action: 'deployment.rollback' });
      assert.match(String((rolledBack?.after as { reason: string }).reason), /predictionPsi/);
      const steps = await store.steps.listSteps(SYSTEM, handle.workflowId);
      assert.deepEqual(
        steps.filter((s) => s.nodeId === 'deploy').map((s) => [s.status, s.errorType]),
        [['failed', 'RolloutGateFailed']],
      );
    });

    it('answers only with the current version during a shadow rollout, logging the candidate too', async () => {
      const current = (await holder()).current;
      const handle = await start(
        release({
          shadow: { window: '5s', checkEvery: '1s', minRequests: 10, gates: [{ metric: 'predictionPsi', max: 0.5 }] },
        }),
        versions.shadowed,
      );
      const since = new Date();
      const { answers, result } = await traffic(handle);
      await result;
      assert.ok(answers.length > 0 && answers.every((a) => a.status === 200));
      await server.log!.flush();
      const logged = await store.serving.listPredictions(SYSTEM, { model: 'credit-risk', since, limit: 100_000 });
      const shadowed = logged.filter((r) => r.route === 'shadow');
      assert.ok(shadowed.length >= 5, `the shadow answered ${shadowed.length} requests`);
      assert.ok(shadowed.every((r) => r.version === versions.shadowed && !r.served));
      // Every mirrored request was answered by the current version: the shadow's answer never reached a caller.
      const served = new Map(logged.filter((r) => r.served).map((r) => [`${r.requestId}#${r.rowIndex}`, r]));
      for (const row of shadowed) assert.equal(served.get(`${row.requestId}#${row.rowIndex}`)?.version, current);
      assert.equal((await holder()).current, versions.shadowed);
    });

    // Another process records in the same store only through a server: PostgreSQL.
    const killed = backend.url ? it : () => undefined;
    killed('finishes a rollout whose worker was SIGKILLed mid-window, promoting once after the restart', async () => {
      const url = await backend.url!();
      const queue = `rollout-kill-${Date.now()}`;
      const first = await workerProcess(kiln.address, queue, url);
      const handle = await kiln.client.workflow.start(runPipeline, {
        taskQueue: queue,
        workflowId: `rollout-kill-${Date.now()}`,
        args: [{ plan: compile(canary('5s')), params: { version: versions.closer } }],
      });
      await approveWhenWaiting(handle, 'alice', { store });
      const load = traffic(handle);
      await observing(kiln.client, handle.workflowId);
      first.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 1_000));
      await workerProcess(kiln.address, queue, url);
      const { answers, result } = await load;
      const run = await result;
      assert.equal((run.output as { version: number }).version, versions.closer);
      assert.ok(answers.every((a) => a.status === 200));
      assert.equal((await holder()).current, versions.closer);
      const promotions = await store.audit.listAudit(SYSTEM, {
        action: 'deployment.promote',
        subject: 'model:credit-risk#production',
      });
      assert.equal(
        promotions.filter((e) => (e.after as { candidate: number }).candidate === versions.closer).length,
        1,
      );
    });

    it('rolls back at once when a person aborts the rollout in flight', async () => {
      const before = await holder();
      const handle = await start(canary('60s'), versions.aborted);
      const child = await observing(kiln.client, handle.workflowId);
      // Sent straight to Temporal, with no request on record, an abort is refused and audited.
      await child.executeUpdate(rolloutDecideUpdate, { args: [{ action: 'abort', by: 'alice' }] });
      for (
        let i = 0;
        i < 50 && (await store.audit.listAudit(SYSTEM, { subject: `rollout:${child.workflowId}` })).length === 0;
        i++
      )
        await new Promise((r) => setTimeout(r, 100));
      assert.equal((await child.query(rolloutStatusQuery)).state, 'observing');
      const [refused] = await store.audit.listAudit(SYSTEM, {
        subject: `rollout:${child.workflowId}`,
        action: 'access.denied',
      });
      assert.equal(refused?.actor, 'alice');
      assert.match(
        describeRollout(child.workflowId, await child.query(rolloutStatusQuery)),
        /: observing\n.*canary 50%/,
      );
      await decideRollout(
        kiln.client,
        store,
        await store.access.principalByName(SYSTEM, 'alice'),
        child.workflowId,
        'abort',
      );
      const error = await handle.result().then(
        () => assert.fail('aborted'),
        (e: unknown) => e,
      );
      assert.equal(((error as WorkflowFailedError).cause as ApplicationFailure).type, 'RolloutAborted');
      assert.deepEqual(await holder(), { current: before.current, split: null });
    });

    it('returns the alias and its traffic to the previous version with kiln rollback, as an approver only', async () => {
      const before = await holder();
      const history = await store.registry.aliasHistory(SYSTEM, 'credit-risk', 'production');
      const previous = history.at(-2)?.version;
      const viewer = (await store.access.createToken(SYSTEM, { name: `val-${backend.name}`, role: 'viewer' }))
        .principal;
      await assert.rejects(rollbackDeployment(store, viewer, 'credit-risk', 'production'), {
        name: 'AccessDeniedError',
      });
      const alice = await store.access.principalByName(SYSTEM, 'alice');
      const move = await rollbackDeployment(store, alice, 'credit-risk', 'production');
      assert.equal(move.previous, before.current);
      assert.equal(move.version, previous);
      assert.deepEqual(await holder(), { current: previous, split: null });
      const served = await post(predict, rows[0]);
      for (let i = 0; i < 40 && served.body.version !== previous; i++) {
        await new Promise((r) => setTimeout(r, 100));
        Object.assign(served, await post(predict, rows[0]));
      }
      assert.equal(served.body.version, previous, 'the server follows the rollback');
    });

    it('rolls back a canary whose candidate fails every request, by the errorRate gate', async () => {
      const before = await holder();
      const broken = await register(ctx, store, await brokenModel(ctx.artifacts, await trainCreditModel(ctx)));
      const gates = [{ metric: 'errorRate' as const, max: 0.1 }];
      const handle = await start(
        release({ canary: { percent: 50, window: '20s', checkEvery: '1s', minRequests: 30, gates } }),
        broken,
      );
      const { answers, result } = await traffic(handle);
      const error = await result.then(
        () => assert.fail('the rollout should have been rolled back'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof WorkflowFailedError);
      const cause = error.cause as ApplicationFailure;
      assert.equal(cause.type, 'RolloutGateFailed');
      assert.match(cause.message, /errorRate 1\.0000 > 0\.1/);
      assert.ok(
        answers.some((a) => a.status === 500),
        'the candidate failed its share of the requests',
      );
      assert.ok(answers.filter((a) => a.status === 200).every((a) => a.version === before.current));
      assert.deepEqual(await holder(), { current: before.current, split: null });
    });
  });
}
