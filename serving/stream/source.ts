import type { ArtifactStore } from '../../activities/artifacts/store';
import type { Principal, Store } from '../../store';
import { storeSource } from '../store-source';
import type { ServingSource } from '../source';

/**
 * The model server's store source, with a prediction log write that skips rows already logged:
 * an at-least-once consumer scores a redelivered event again, and must count it once.
 */
export function streamSource(store: Store, artifacts: ArtifactStore, actor: Principal): ServingSource {
  return {
    ...storeSource(store, artifacts, actor),
    async writePredictions(rows) {
      await store.serving.recordPredictionsOnce(actor, rows);
    },
  };
}
