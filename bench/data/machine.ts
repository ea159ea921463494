import { cpus, loadavg, totalmem } from 'node:os';
import { ArtifactStore } from '../../activities/artifacts/store';
import type { StepContext } from '../../activities/library';

// What the bench/data scripts share: the machine they report, and a step context that records nothing.

/** The machine a benchmark ran on, for the line above its table. */
export const machine = () =>
  `machine: ${cpus().length} cores (${cpus()[0]?.model}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;

/** The load average now (1, 5 and 15 minutes): a shared machine's figures move with it. */
export const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

/** A step context over the artifact store at `root` that drops heartbeats, logs and sources. */
export const benchContext = (root: string): StepContext => ({
  artifacts: new ArtifactStore(root),
  heartbeat: () => {},
  signal: new AbortController().signal,
  log: () => {},
  run: { workflowId: 'bench', runId: 'bench', pipeline: 'bench', node: 'step' },
  readFrom: () => {},
});
