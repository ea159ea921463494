import type { ArtifactStore } from '../activities/artifacts/store';
import { readDatasetValues } from '../activities/common/dataset/dataset';
import { trainingDataset } from '../monitor/lineage';
import type { Principal, Store } from '../store';

/**
 * The columns tagged sensitive in the training data of any version of `model`, found through
 * lineage: the model server logs them only as keyed hashes, so a tag declared once at ingest
 * (data.readCsv's `sensitive`) also holds in the prediction log without a --sensitive flag.
 * Versions with no training dataset on record add nothing.
 */
export async function sensitiveTrainingColumns(
  store: Store,
  artifacts: ArtifactStore,
  actor: Principal,
  model: string,
): Promise<string[]> {
  const tagged = new Set<string>();
  for (const version of (await store.registry.getModel(actor, model))?.versions ?? []) {
    const graph = await store.lineage.upstream(actor, { model, version: version.version });
    const dataset = trainingDataset(graph, version.artifactSha256);
    if (!dataset) continue;
    // The header comes first: read it and stop.
    for await (const item of readDatasetValues(artifacts, dataset)) {
      if (!Array.isArray(item)) for (const column of item.columns) if (column.sensitive) tagged.add(column.name);
      break;
    }
  }
  return [...tagged].sort();
}
