import type { StepImpl } from '../activities/library';

/**
 * The steps a worker runs, replaceable while it runs (`kiln dev` reloads edited step modules).
 * Each replacement is a generation; a run keeps the generation it began with, so a run in flight
 * finishes on the code it started with and the next run gets the new code. A generation no run
 * holds any more is dropped.
 */
export class LiveSteps {
  private readonly generations = new Map<number, ReadonlyMap<string, StepImpl>>();
  private latest = -1;
  private readonly pinned = new Map<string, number>();

  constructor(steps: readonly StepImpl[]) {
    this.replace(steps);
  }

  /** Makes `steps` the generation new runs get; returns its number. */
  replace(steps: readonly StepImpl[]): number {
    const byName = new Map<string, StepImpl>();
    for (const impl of steps) {
      if (byName.has(impl.def.name)) throw new Error(`two implementations of step '${impl.def.name}'`);
      byName.set(impl.def.name, impl);
    }
    this.generations.set(++this.latest, byName);
    this.prune();
    return this.latest;
  }

  private get current(): ReadonlyMap<string, StepImpl> {
    return this.generations.get(this.latest)!;
  }

  /** The implementations new runs get. */
  steps(): StepImpl[] {
    return [...this.current.values()];
  }

  /** The step names new runs can use. */
  names(): string[] {
    return [...this.current.keys()];
  }

  /** Binds a run to the current generation (at its start); idempotent for a run already bound. */
  pin(workflowId: string): void {
    if (!this.pinned.has(workflowId)) this.pinned.set(workflowId, this.latest);
  }

  /** Forgets a finished run's binding. */
  release(workflowId: string): void {
    this.pinned.delete(workflowId);
    this.prune();
  }

  /** The implementation of `name` for this run: from the generation it began with, else the current one. */
  lookup(name: string, workflowId: string): StepImpl | undefined {
    const generation = this.pinned.get(workflowId);
    return (generation === undefined ? this.current : this.generations.get(generation)!).get(name);
  }

  private prune(): void {
    const held = new Set(this.pinned.values());
    for (const generation of this.generations.keys())
      if (generation !== this.latest && !held.has(generation)) this.generations.delete(generation);
  }
}
