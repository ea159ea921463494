import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { SYSTEM, type Principal, type Store } from '../../store';
import { runActivities } from '../../workers/step-activities';
import { stepStore } from '../../workers/step-store';
import { testBackends } from '../support/backends';
import { fakePlan, sha, startRun } from '../support/store-fixtures';

// A decision is bound to the plan it was made for: the plan's hash recomputed from the plan on
// record, never a hash a start request names. Played here as someone who can start workflows.

const approved = fakePlan('release', '1.0.0');
const other = fakePlan('release', '2.0.0');

for (const backend of testBackends()) {
  describe(`approval decisions bound to the plan on ${backend.name}`, () => {
    let store: Store;
    let alice: Principal;
    before(async () => {
      store = await backend.open();
      alice = (await store.access.createToken(SYSTEM, { name: 'alice', role: 'approver' })).principal;
      for (const n of [1, 2]) {
        await store.artifacts.recordArtifact(SYSTEM, { sha256: sha(`model-${n}`), kind: 'model', size: n });
        await store.registry.registerModelVersion(SYSTEM, { model: 'credit', artifactSha256: sha(`model-${n}`) });
      }
      await startRun(store, 'run-approved', approved);
      await store.decisions.recordDecision(alice, { runId: 'run-approved', gate: 'release', approved: true });
    });
    after(() => backend.close());

    it('records the decision with the hash recomputed from the run’s plan on record', async () => {
      const [decision] = await store.decisions.listDecisions(SYSTEM, 'run-approved');
      assert.equal(decision!.planHash, approved.hash);
      const [event] = await store.audit.listAudit(SYSTEM, {
        action: 'gate.approve',
        subject: 'run:run-approved#release',
      });
      assert.equal((event!.after as { planHash: string }).planHash, approved.hash);
    });

    it('refuses to move an alias for an execution whose plan hash differs from the approved one', async () => {
      const asOtherPlan = stepStore(store, 'run-approved', other.hash);
      await assert.rejects(asOtherPlan.registry.promote('credit', 2, 'production', { gate: 'release' }), {
        name: 'StepStoreError',
        message: `registry.promote: no approval at gate 'release' is on record for run run-approved and plan ${other.hash.slice(0, 12)}; an alias moves only as the principal who approved that plan (kiln approve)`,
      });
      const refusals = await store.audit.listAudit(SYSTEM, { action: 'access.denied', subject: 'model:credit@2' });
      assert.equal((refusals.at(-1)!.after as { planHash: string }).planHash, other.hash);
      await assert.rejects(store.registry.getModelVersion(SYSTEM, 'credit', 'production'), { name: 'NotFoundError' });
      // The same approval moves it for the plan it was given for.
      const asApproved = stepStore(store, 'run-approved', approved.hash);
      const move = await asApproved.registry.promote('credit', 1, 'production', { gate: 'release' });
      assert.deepEqual([move.changed, move.by], [true, 'alice']);
    });

    it('refuses a decision on a run recorded under a hash its plan content does not have', async () => {
      // The other plan's content, under the approved plan's name (hash), as a start request could claim.
      const forged = { ...other, hash: sha('not the content') };
      await startRun(store, 'run-forged', forged);
      await assert.rejects(
        store.decisions.recordDecision(alice, { runId: 'run-forged', gate: 'release', approved: true }),
        {
          name: 'ConflictError',
          message: /run 'run-forged' is recorded with plan .*, but that plan's content hashes to/,
        },
      );
      assert.deepEqual(await store.decisions.listDecisions(SYSTEM, 'run-forged'), []);
    });

    it('refuses to begin a run whose plan names a hash its content does not have', async () => {
      const begin = runActivities([], store)['kiln.begin'];
      const forged = { ...other, hash: approved.hash };
      await assert.rejects(
        begin({ workflowId: 'run-begun-forged', temporalRunId: 't1', plan: forged, params: {}, resumed: false }),
        (error: unknown) => {
          assert.ok(error instanceof ApplicationFailure && error.nonRetryable);
          assert.equal(error.type, 'InvalidPlan');
          assert.match(error.message, /but its content hashes to/);
          return true;
        },
      );
      assert.equal(await store.runs.getRun(SYSTEM, 'run-begun-forged'), undefined);
    });
  });
}
