import { FailureTypes } from '../../dsl/failures';
import { ApplicationFailure } from '@temporalio/common';
import { AccessDeniedError, NotFoundError } from '../../store/errors';
import { implement } from '../library';
import { setAlias } from './steps';
import { requireStore } from '../common/failures';

export { setAlias } from './steps';

const STEP = 'registry.setAlias';

/** The failure type when the acting principal may not move the alias; the store has audited the refusal. */
export const ACCESS_DENIED = FailureTypes.AccessDenied;

export const setAliasImpl = implement(setAlias, async (input, ctx) => {
  const store = requireStore(ctx, STEP);
  const { name, version, alias, approval } = input;
  if (!approval.approved) {
    throw ApplicationFailure.nonRetryable(
      `${STEP}: the approval given was a rejection by ${approval.by}; the alias '${alias}' of '${name}' stays where it is`,
      'ApprovalRejected',
      { by: approval.by },
    );
  }
  // The decision the run holds is only a name anyone reaching Temporal could send: it counts
  // when the store has the same decision on record, written by `kiln approve` after checking
  // the approver's token and role.
  const recorded = (await store.decisions.listDecisions()).find(
    (d) => d.gate === approval.gate && d.decision === 'approved' && d.decidedBy === approval.by,
  );
  if (!recorded) {
    const subject = `model:${name}@${version}`;
    await store.audit.appendAudit({
      actor: approval.by,
      action: 'access.denied',
      subject,
      after: { action: 'alias.move', reason: 'no approval on record for this run', run: ctx.run.workflowId },
    });
    throw ApplicationFailure.nonRetryable(
      `${STEP}: no approval by ${approval.by} at gate '${approval.gate}' is on record for run ${ctx.run.workflowId}; approvals count when given with \`kiln approve\`, which checks the approver's token`,
      ACCESS_DENIED,
      { who: approval.by, action: 'alias.move' },
    );
  }
  try {
    // The worker acts as the principal of the recorded approval at this gate, with its role now.
    const move = await store.registry.promote(name, version, alias, { gate: approval.gate });
    ctx.log(move.changed ? 'alias moved' : 'alias already there', {
      model: name,
      alias,
      version,
      previous: move.previous,
      by: move.by,
    });
    return { name, alias, version, previous: move.previous, changed: move.changed, by: move.by };
  } catch (error) {
    if (error instanceof AccessDeniedError) {
      throw ApplicationFailure.nonRetryable(`${STEP}: ${error.message}`, ACCESS_DENIED, {
        who: error.who,
        role: error.role,
        action: error.action,
        required: error.required,
      });
    }
    if (error instanceof NotFoundError)
      throw ApplicationFailure.nonRetryable(`${STEP}: ${error.message}`, FailureTypes.NotFound, {
        model: name,
        version,
      });
    throw error;
  }
});
