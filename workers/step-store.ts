import { STEP_STORE_METHODS, type StepStore } from '../activities/library';
import { SYSTEM, type Principal, type Store } from '../store';

/** What a step did that the store a step gets does not allow: name a principal, or act without one on record. */
export class StepStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StepStoreError';
  }
}

const isPrincipal = (value: unknown) => typeof value === 'object' && value !== null && 'role' in value;

/** `fn` with `actor` bound first; an argument that looks like a principal is refused, not passed on. */
function bind<A extends unknown[], R>(
  fn: (actor: Principal, ...args: A) => Promise<R>,
  actor: Principal,
  method: string,
): (...args: A) => Promise<R> {
  return async (...args: A) => {
    if (args.some(isPrincipal))
      throw new StepStoreError(`${method}: a step cannot choose who it acts as; the worker binds the principal`);
    return fn(actor, ...args);
  };
}

/**
 * The store a step of run `runId` gets: only the methods in STEP_STORE_METHODS, as closures
 * with their principal bound here. The run's own records (runs, steps, artifacts, lineage,
 * experiments, registrations) are the system's; an alias moves only as the principal whose
 * approval of the named gate this run has on record for the plan `planHash` names (the executing
 * plan's, which kiln.begin checked against its content; default the run's recorded plan), with
 * the role the store gives it now.
 * Nothing reaches principals or tokens, and there is no argument through which to name an actor.
 */
export function stepStore(store: Store, runId: string, planHash?: string, ready?: Promise<void>): StepStore {
  const bound = boundStore(store, runId, planHash);
  return ready ? waitingFor(ready, bound) : bound;
}

/**
 * `store` with each method waiting for `ready` first: the worker writes a step's start lazily, and
 * a step reading the store may read its own record (registry.register's lineage does).
 */
function waitingFor(ready: Promise<void>, store: StepStore): StepStore {
  return Object.fromEntries(
    Object.entries(store).map(([space, methods]) => [
      space,
      Object.fromEntries(
        Object.entries(methods as Record<string, (...args: unknown[]) => Promise<unknown>>).map(([name, method]) => [
          name,
          async (...args: unknown[]) => {
            await ready;
            return method(...args);
          },
        ]),
      ),
    ]),
  ) as unknown as StepStore;
}

function boundStore(store: Store, runId: string, planHash?: string): StepStore {
  const narrowed = Object.fromEntries(
    Object.entries(STEP_STORE_METHODS).map(([space, methods]) => {
      const api = store[space as keyof typeof STEP_STORE_METHODS] as unknown as Record<
        string,
        (actor: Principal, ...args: unknown[]) => Promise<unknown>
      >;
      return [space, Object.fromEntries(methods.map((m) => [m, bind(api[m]!.bind(api), SYSTEM, `${space}.${m}`)]))];
    }),
  ) as unknown as Omit<StepStore, 'decisions' | 'audit'>;

  async function promote(name: string, version: number, alias: string, approval: { gate: string }) {
    if ([name, version, alias, approval].some(isPrincipal))
      throw new StepStoreError('registry.promote: a step cannot choose who it acts as; the worker binds the principal');
    if (typeof approval?.gate !== 'string')
      throw new StepStoreError(
        "registry.promote: name the approval gate whose recorded approver moves the alias: { gate: 'release' }",
      );
    const subject = `model:${name}@${version}`;
    const plan = planHash ?? (await store.runs.getRun(SYSTEM, runId))?.planHash ?? '';
    const approver = await store.decisions.approverOf(SYSTEM, runId, approval.gate, plan);
    if (!approver) {
      await store.audit.appendAudit(SYSTEM, {
        actor: `run:${runId}`,
        action: 'access.denied',
        subject,
        after: {
          action: 'alias.move',
          reason: `no approval at gate '${approval.gate}' on record for this run and plan`,
          planHash: plan,
        },
      });
      throw new StepStoreError(
        `registry.promote: no approval at gate '${approval.gate}' is on record for run ${runId} and plan ${plan.slice(0, 12)}; an alias moves only as the principal who approved that plan (kiln approve)`,
      );
    }
    const move = await store.registry.promote(approver, name, version, alias);
    return { ...move, by: approver.name };
  }

  return {
    ...narrowed,
    registry: { ...narrowed.registry, promote },
    decisions: { listDecisions: () => store.decisions.listDecisions(SYSTEM, runId) },
    audit: {
      appendAudit: async (event) => {
        if (event.action !== 'access.denied')
          throw new StepStoreError(`a step may audit only a refusal (access.denied), not '${String(event.action)}'`);
        await store.audit.appendAudit(SYSTEM, event);
      },
      // The actor is who started the run (its run.start event), never a name the step gives.
      readSensitive: async (dataset, columns) => {
        const actor = (await store.runs.startedBy(SYSTEM, runId)) ?? `run:${runId}`;
        await store.audit.appendAudit(SYSTEM, {
          actor,
          action: 'dataset.read_sensitive',
          subject: `dataset:${dataset.sha256}`,
          after: { run: runId, uri: dataset.uri, columns },
        });
      },
    },
  };
}
