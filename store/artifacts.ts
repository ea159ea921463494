import { and, eq, inArray, isNotNull } from 'drizzle-orm';
import type { AccessApi, Principal } from './access';
import type { Executor } from './executor';
import { artifacts, type Artifact } from './schema/artifacts';

/** What an activity knows about an artifact; an artifact ref (`{ kind, uri, sha256, size }`) fits. */
export interface ArtifactInput {
  sha256: string;
  kind: string;
  size: number;
  uri?: string;
  mediaType?: string;
  schema?: unknown;
  stats?: Record<string, unknown>;
}

const SHA256 = /^[0-9a-f]{64}$/;

export function checkSha256(sha256: string, what = 'artifact sha256'): void {
  if (!SHA256.test(sha256)) throw new Error(`${what} '${sha256}' is not 64 lowercase hex characters`);
}

/**
 * Inserts artifacts that are new; an artifact already recorded is immutable and left as it is,
 * except that recording content retention had deleted means it is stored again.
 */
export async function recordArtifactsIn(tx: Executor, inputs: ArtifactInput[]): Promise<void> {
  if (inputs.length === 0) return;
  for (const a of inputs) checkSha256(a.sha256);
  await tx
    .insert(artifacts)
    .values(
      inputs.map((a) => ({
        sha256: a.sha256,
        kind: a.kind,
        uri: a.uri ?? `artifact:sha256:${a.sha256}`,
        size: a.size,
        mediaType: a.mediaType ?? null,
        schema: a.schema ?? null,
        stats: a.stats ?? null,
      })),
    )
    .onConflictDoNothing({ target: artifacts.sha256 });
  // A separate update, not DO UPDATE on conflict: that would lock every row already recorded, so
  // concurrent writers of the same artifacts could deadlock; this locks only rows gc marked.
  await tx
    .update(artifacts)
    .set({ contentDeletedAt: null })
    .where(
      and(
        inArray(
          artifacts.sha256,
          inputs.map((a) => a.sha256),
        ),
        isNotNull(artifacts.contentDeletedAt),
      ),
    );
}

export const artifactsApi = (db: Executor, access: Pick<AccessApi, 'authorize'>) => ({
  /** Records an artifact (idempotent: content-addressed, so the first record stands). */
  async recordArtifact(actor: Principal, input: ArtifactInput): Promise<Artifact> {
    await access.authorize(actor, 'record', `artifact:${input.sha256}`);
    await recordArtifactsIn(db, [input]);
    const [row] = await db.select().from(artifacts).where(eq(artifacts.sha256, input.sha256));
    return row!;
  },

  async recordArtifacts(actor: Principal, inputs: ArtifactInput[]): Promise<void> {
    await access.authorize(actor, 'record', 'artifacts');
    await recordArtifactsIn(db, inputs);
  },

  async getArtifact(actor: Principal, sha256: string): Promise<Artifact | undefined> {
    await access.authorize(actor, 'read', `artifact:${sha256}`);
    const [row] = await db.select().from(artifacts).where(eq(artifacts.sha256, sha256));
    return row;
  },

  async getArtifacts(actor: Principal, shas: string[]): Promise<Artifact[]> {
    await access.authorize(actor, 'read', 'artifacts');
    if (shas.length === 0) return [];
    return db.select().from(artifacts).where(inArray(artifacts.sha256, shas));
  },
});
export type ArtifactsApi = ReturnType<typeof artifactsApi>;
