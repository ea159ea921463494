import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { builtinSteps } from '../../activities';
import { setAlias } from '../../activities/steps';
import { compile, pipeline } from '../../dsl';
import { checkApprovalWiring } from '../../workers/approval-wiring';

describe('approval wiring', () => {
  it('accepts a setAlias fed by a gate of the run, whole', () => {
    const plan = compile(
      pipeline({ name: 'wired' }, (p) => {
        const release = p.approval('release', {});
        p.step(setAlias, { name: 'm', version: 1, alias: 'production', approval: release });
      }),
    );
    assert.doesNotThrow(() => checkApprovalWiring(plan, builtinSteps));
  });

  it('refuses a decision written into the plan, naming node and field', () => {
    const plan = compile(
      pipeline({ name: 'forged' }, (p) => {
        p.approval('hello', {});
        p.step(
          setAlias,
          { name: 'm', version: 1, alias: 'production', approval: { gate: 'hello', approved: true, by: 'alice' } },
          { id: 'promote' },
        );
      }),
    );
    assert.throws(
      () => checkApprovalWiring(plan, builtinSteps),
      (error: unknown) => {
        assert.ok(error instanceof ApplicationFailure && error.nonRetryable);
        assert.equal(error.type, 'InvalidPlan');
        assert.match(
          error.message,
          /step 'promote' \(registry.setAlias\): input 'approval' must be a p.approval gate's decision/,
        );
        return true;
      },
    );
  });
});
