import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { z } from 'zod';
import { ArtifactStore } from '../../activities/artifacts/store';
import { implement, type StepContext } from '../../activities/library';
import { defineStep } from '../../dsl';
import { openStore, SYSTEM, type Principal, type Store } from '../../store';
import { fakePlan, sha, startRun } from '../support/store-fixtures';
import type { StepEnvelope, StepRequest } from '../../workflows/protocol';
import { stepActivities } from '../../workers/step-activities';

const probe = defineStep({
  name: 'test.probeStore',
  version: '1',
  input: z.object({}),
  output: z.object({ results: z.array(z.string()) }),
});

const request = (runId: string): StepRequest => ({
  input: {},
  context: {
    workflowId: runId,
    runId: 'r',
    pipeline: 'probe',
    planHash: fakePlan('test-pipeline').hash,
    node: 'probe',
    step: { name: 'test.probeStore', version: '1' },
    cache: false,
  },
});

/** Runs `attempts` as a step through the worker's activity wrapper; each attempt reports what happened to it. */
async function runAsStep(
  store: Store,
  dir: string,
  runId: string,
  attempts: Array<(ctx: StepContext) => Promise<unknown>>,
): Promise<string[]> {
  const impl = implement(probe, async (_input, ctx) => {
    const results: string[] = [];
    for (const attempt of attempts) {
      try {
        await attempt(ctx);
        results.push('allowed');
      } catch (error) {
        results.push(`${(error as Error).name}: ${(error as Error).message}`);
      }
    }
    return { results };
  });
  const activities = stepActivities([impl], { artifacts: new ArtifactStore(dir), store });
  const envelope = (await new MockActivityEnvironment().run(
    activities['test.probeStore']!,
    request(runId),
  )) as StepEnvelope;
  return (envelope.output as { results: string[] }).results;
}

// What a hostile step writes: its own idea of a principal, typed away.
type Loose = Record<string, Record<string, ((...args: unknown[]) => Promise<unknown>) | undefined> | undefined>;
const loose = (ctx: StepContext) => ctx.store as unknown as Loose;

describe('the store a step gets', () => {
  let store: Store;
  let dir: string;
  let admin: Principal;
  before(async () => {
    store = await openStore({ dir: 'memory://' });
    dir = await mkdtemp(join(tmpdir(), 'kiln-step-store-'));
    for (const name of ['a', 'b']) {
      await store.artifacts.recordArtifact(SYSTEM, { sha256: sha(name), kind: 'model', size: 1 });
      await store.registry.registerModelVersion(SYSTEM, { model: 'credit', artifactSha256: sha(name) });
    }
    await store.registry.promote(SYSTEM, 'credit', 1, 'production');
    admin = (await store.access.createToken(SYSTEM, { name: 'root', role: 'admin' })).principal;
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('offers the registry, experiment and lineage methods by namespace, and nothing of principals, tokens or the audit trail', async () => {
    await startRun(store, 'probe-run');
    const names = [
      'runs.getRun',
      'registry.getModelVersion',
      'registry.promote',
      'experiments.recordTrial',
      'registry.rollback',
      'access.createToken',
      'access.authorize',
      'audit.listAudit',
      'decisions.recordDecision',
      'runs.recordRunStart',
    ];
    const results = await runAsStep(store, dir, 'probe-run', [
      async (ctx) => {
        const reachable = names.filter((n) => {
          const [space, method] = n.split('.') as [string, string];
          return typeof loose(ctx)[space]?.[method] === 'function';
        });
        assert.deepEqual(reachable, [
          'runs.getRun',
          'registry.getModelVersion',
          'registry.promote',
          'experiments.recordTrial',
        ]);
        assert.equal((ctx.store as unknown as Record<string, unknown>).db, undefined);
        // What it offers works against the real store.
        assert.equal((await ctx.store!.runs.getRun('probe-run'))?.id, 'probe-run');
      },
    ]);
    assert.deepEqual(results, ['allowed']);
  });

  it('refuses a step that names its own admin actor to move an alias or to read, or calls what it was not given', async () => {
    await startRun(store, 'hostile-run');
    const forged = { id: admin.id, name: 'root', role: 'admin' };
    const results = await runAsStep(store, dir, 'hostile-run', [
      // An actor where the worker's bound principal would go.
      (ctx) => loose(ctx).registry!.promote!(forged, 'credit', 2, 'production'),
      // An actor slipped into the approval argument: the worker looks up the gate's approver instead.
      (ctx) => loose(ctx).registry!.promote!('credit', 2, 'production', { gate: 'release', actor: forged }),
      (ctx) => loose(ctx).registry!.getModelVersion!(forged, 'credit', 'production'),
      // Methods outside the narrowed store are not there to call.
      (ctx) => loose(ctx).registry!.rollback!('credit', 'production'),
      (ctx) => loose(ctx).access!.createToken!({ name: 'mallory', role: 'admin' }),
      (ctx) =>
        ctx.store!.audit.appendAudit({ actor: 'root', action: 'model.alias.promote' as 'access.denied', subject: 'x' }),
    ]);
    assert.deepEqual(
      results.map((r) => r.split(':')[0]),
      ['StepStoreError', 'StepStoreError', 'StepStoreError', 'TypeError', 'TypeError', 'StepStoreError'],
    );
    assert.match(results[0]!, /a step cannot choose who it acts as/);
    assert.match(results[1]!, /no approval at gate 'release' is on record for run hostile-run/);
    assert.equal((await store.registry.getModelVersion(SYSTEM, 'credit', 'production')).version, 1);
    assert.deepEqual(
      (await store.registry.aliasHistory(SYSTEM, 'credit', 'production')).map((m) => m.actor),
      ['system'],
    );
    const denied = await store.audit.listAudit(SYSTEM, { action: 'access.denied', actor: 'run:hostile-run' });
    assert.equal(denied.length, 1);
    assert.equal(denied[0]!.subject, 'model:credit@2');
    assert.equal(
      (await store.access.listPrincipals(SYSTEM)).some((p) => p.name === 'mallory'),
      false,
    );
  });

  it("moves an alias as the run's recorded approver, whatever the step claims", async () => {
    const alice = (await store.access.createToken(SYSTEM, { name: 'alice', role: 'approver' })).principal;
    await startRun(store, 'approved-run');
    await store.decisions.recordDecision(alice, { runId: 'approved-run', gate: 'release', approved: true });
    const results = await runAsStep(store, dir, 'approved-run', [
      (ctx) => loose(ctx).registry!.promote!('credit', 2, 'production', { gate: 'release', by: 'root' }),
    ]);
    assert.deepEqual(results, ['allowed']);
    const [last] = (await store.registry.aliasHistory(SYSTEM, 'credit', 'production')).slice(-1);
    assert.deepEqual([last!.actor, last!.version], ['alice', 2]);
  });
});
