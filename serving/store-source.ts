import { ArtifactStore } from '../activities/artifacts/store';
import type { Principal, Store } from '../store';
import type { ServingSource } from './source';

/** The model server's one way into the store and the artifact store, as `actor` (the store checks its role). */
export function storeSource(store: Store, artifacts: ArtifactStore, actor: Principal): ServingSource {
  return {
    routing: (model, alias) => store.serving.servedVersions(actor, model, alias),
    async loadVersion(model, version) {
      const found = await store.serving.servableVersion(actor, model, version);
      return {
        model,
        version,
        kind: found.kind,
        sha256: found.artifactSha256,
        signature: found.signature,
        bytes: await artifacts.read(found.uri),
      };
    },
    writePredictions: (rows) => store.serving.recordPredictions(actor, rows),
    writeErrors: (rows) => store.serving.recordPredictionErrors(actor, rows),
    attachLabels: (input) => store.serving.attachLabels(actor, input),
  };
}

/** What `kiln serve` serves when given no names: every model with a `production` alias. */
export async function productionModels(
  store: Store,
  actor: Principal,
): Promise<Array<{ name: string; alias: string }>> {
  const models = await store.registry.listModels(actor);
  return models.filter((m) => m.aliases.production !== undefined).map((m) => ({ name: m.name, alias: 'production' }));
}
