import type { ModelVersionInfo, Principal, Store } from '../../store';

/** What the edge export needs to know of a registered model version. */
export interface RegisteredVersion {
  name: string;
  version: number;
  artifactSha256: string;
  /** The signature recorded at registration; `format: 'onnx'` marks an .onnx artifact, else a Kiln model. */
  signature: Record<string, unknown> | null;
}

/** The part of the store the edge export reads: one lookup of a version by number or alias. */
export interface EdgeStore {
  getModelVersion(name: string, versionOrAlias: string): Promise<ModelVersionInfo>;
}

/** The store as the edge export reads it, as `actor` (the store checks the viewer role). */
export const edgeStore = (store: Store, actor: Principal): EdgeStore => ({
  getModelVersion: (name, versionOrAlias) => store.registry.getModelVersion(actor, name, versionOrAlias),
});

// The only place serving/edge/ touches the store, so that a change to the store's API is one edit here.
export async function registeredVersion(
  store: EdgeStore,
  name: string,
  versionOrAlias: string,
): Promise<RegisteredVersion> {
  const found: ModelVersionInfo = await store.getModelVersion(name, versionOrAlias);
  return {
    name: found.model,
    version: found.version,
    artifactSha256: found.artifactSha256,
    signature: found.signature,
  };
}
