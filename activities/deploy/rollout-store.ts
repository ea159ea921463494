import type { z } from 'zod';
import type { approvalDecision } from '../refs';

/** What a rollout needs of the store, in one place: the worker adapts its store to this. */
export interface RolloutStore {
  /** The principal whose decision at the run's gate is on record; throws AccessDenied when none is. */
  approverOnRecord(run: string, approval: z.infer<typeof approvalDecision>): Promise<string>;
  requireVersion(model: string, version: number): Promise<void>;
  currentVersion(model: string, alias: string): Promise<number | null>;
  setSplit(split: {
    model: string;
    alias: string;
    mode: 'canary' | 'shadow';
    candidate: number;
    percent: number;
    rollout: string;
    by: string;
  }): Promise<void>;
  clearSplit(model: string, alias: string, by: string): Promise<void>;
  /** The rollout's row in the deployments history, keyed by its id: observing, promoted or rolled back. */
  recordDeployment(deployment: {
    rollout: string;
    model: string;
    version: number;
    alias: string;
    mode: string;
    status: 'observing' | 'promoted' | 'rolled back';
    by: string;
    details?: Record<string, unknown>;
  }): Promise<void>;
  promote(model: string, version: number, alias: string, by: string): Promise<{ previous: number | null }>;
  /** The logged rows a version answered since `since`, with the probability of the model's first class. */
  predictions(
    model: string,
    version: number,
    since: string,
  ): Promise<Array<{ requestId: string; latencyMs: number; probability: number }>>;
  /** How many requests a version failed to score since `since` (the server's error log). */
  errors(model: string, version: number, since: string): Promise<number>;
  /** Whether `by` asked for this action on this rollout through `kiln deploy`, which checks the role first. */
  requestOnRecord(rollout: string, action: 'promote' | 'abort', by: string): Promise<boolean>;
  audit(by: string, action: string, subject: string, after: Record<string, unknown>): Promise<void>;
}
