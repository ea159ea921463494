import type { StepImpl } from '../library';
import { deploy } from './steps';

/**
 * The deploy family. deploy.rollout runs as a workflow (workflows/rollout.ts) calling the
 * activities in rollout.ts; it is listed so that a worker's catalog names it.
 */
export const deploySteps: StepImpl[] = [
  {
    def: deploy,
    run: () => Promise.reject(new Error('deploy.rollout runs as the rollout workflow, not as an activity')),
  },
];
