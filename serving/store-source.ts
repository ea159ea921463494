import { ArtifactStore } from '../activities/artifacts/store';
import type { Store } from '../store';
import type { ServingSource } from './source';

/** The model server's one way into the store and the artifact store. */
export function storeSource(store: Store, artifacts: ArtifactStore): ServingSource {
  return {
    routing: (model, alias) => store.servedVersions(model, alias),
    async loadVersion(model, version) {
      const found = await store.servableVersion(model, version);
      return {
        model,
        version,
        kind: found.kind,
        sha256: found.artifactSha256,
        signature: found.signature,
        bytes: await artifacts.read(found.uri),
      };
    },
    writePredictions: (rows) => store.recordPredictions(rows),
    attachLabels: (input) => store.attachLabels(input),
  };
}

/** What `kiln serve` serves when given no names: every model with a `production` alias. */
export async function productionModels(store: Store): Promise<Array<{ name: string; alias: string }>> {
  const models = await store.listModels();
  return models.filter((m) => m.aliases.production !== undefined).map((m) => ({ name: m.name, alias: 'production' }));
}
