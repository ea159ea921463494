import type { Client } from '@temporalio/client';
import type { ArtifactStore } from '../../activities/artifacts/store';
import type { Store } from '../../store';
import type { PipelineCatalog } from './pipelines';
import type { TemporalLinks } from './run-detail';

/** What every route of the console reaches: the store, Temporal, the artifacts, the startable pipelines. */
export interface ConsoleContext {
  store: Store;
  client: Client;
  taskQueue: string;
  temporal: TemporalLinks;
  artifacts: ArtifactStore;
  pipelines: PipelineCatalog;
  /** Step modules the worker loads (kiln console --steps): a run's steps are checked against them and the built-ins. */
  stepModules: string[];
  /** KILN_HOME, where running workers advertise their step catalogs. */
  kilnHome?: string;
  /** How often a run's event stream asks the workflow for its status. */
  pollMs: number;
}
