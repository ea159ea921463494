import { ApplicationFailure } from '@temporalio/common';
import type { Store } from '../../store';
import { SYSTEM, type Principal } from '../../store/access';
import { AccessDeniedError, NotFoundError } from '../../store/errors';
import { roleNames, type RoleName } from '../../store/schema/access';
import { implement } from '../library';
import { setAlias } from './steps';
import { requireStore } from './store-required';

export { approvalDecision, setAlias } from './steps';

const STEP = 'registry.setAlias';

/** The failure type when the acting principal may not move the alias; the store has audited the refusal. */
export const ACCESS_DENIED = 'AccessDenied';

/**
 * The principal named `name` with the highest role among its live tokens. A name the store does not
 * know, or one disabled or without a live token, holds no role: it acts as the lowest, viewer, so
 * that the store refuses and audits it like any other principal without the right.
 */
export async function principalNamed(store: Store, name: string): Promise<Principal> {
  const found = (await store.listPrincipals()).find((p) => p.name === name);
  const now = Date.now();
  const live = found && !found.disabledAt ? found.tokens.filter((t) => !t.revokedAt && (!t.expiresAt || t.expiresAt.getTime() > now)) : [];
  const role = live.reduce<RoleName>((best, t) => (roleNames.indexOf(t.role) > roleNames.indexOf(best) ? t.role : best), 'viewer');
  return { id: found?.id ?? null, name, role };
}

export const setAliasImpl = implement(setAlias, async (input, ctx) => {
  const store = requireStore(ctx, STEP);
  const { name, version, alias, approval } = input;
  if (approval && !approval.approved) {
    throw ApplicationFailure.nonRetryable(`${STEP}: the approval given was a rejection by ${approval.by}; the alias '${alias}' of '${name}' stays where it is`, 'ApprovalRejected', { by: approval.by });
  }
  const actor = approval ? await principalNamed(store, approval.by) : SYSTEM;
  try {
    const move = await store.promote(name, version, alias, { actor });
    ctx.log(move.changed ? 'alias moved' : 'alias already there', { model: name, alias, version, previous: move.previous, by: actor.name });
    return { name, alias, version, previous: move.previous, changed: move.changed, by: actor.name };
  } catch (error) {
    if (error instanceof AccessDeniedError) {
      throw ApplicationFailure.nonRetryable(`${STEP}: ${error.message}`, ACCESS_DENIED, { who: error.who, role: error.role, action: error.action, required: error.required });
    }
    if (error instanceof NotFoundError) throw ApplicationFailure.nonRetryable(`${STEP}: ${error.message}`, 'NotFound', { model: name, version });
    throw error;
  }
});
