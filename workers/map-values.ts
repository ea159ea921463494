import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../dsl';
import { ArtifactNotFoundError, ArtifactStore } from '../activities/artifacts/store';
import type { ChunkRef, ValuesRef } from '../workflows/protocol';

const isValuesRef = (value: unknown): value is ValuesRef =>
  value !== null && typeof value === 'object' && '$kilnValues' in value && Object.keys(value).length === 1;

/**
 * The workflow's local activities that keep a wide map's item results in the artifact store
 * (workflows/map-results.ts), so that history holds references, not the results.
 */
export function mapValueActivities(artifacts: ArtifactStore) {
  return {
    'kiln.putValues': async (entries: Array<[number, unknown]>): Promise<ChunkRef> => artifacts.putJson(entries),
    'kiln.joinValues': async ({ chunks, count }: { chunks: ChunkRef[]; count: number }): Promise<ValuesRef> => {
      const values = new Array<unknown>(count);
      for (const chunk of chunks) {
        for (const [index, value] of await artifacts.readJson<Array<[number, unknown]>>(chunk.uri))
          values[index] = value;
      }
      // An index past the end (the chunks are of another map) grows the list: that is named too.
      if (values.length !== count)
        throw ApplicationFailure.nonRetryable(
          `map results do not fit the map: item ${values.length - 1} is in a chunk, but the map has ${count} items`,
          FailureTypes.InvalidInput,
        );
      const missing = values.findIndex((_, i) => !(i in values));
      if (missing >= 0) {
        // A chunk lost from the artifact store: no retry brings it back.
        throw ApplicationFailure.nonRetryable(
          `map results are incomplete: item ${missing} of ${count} is in none of ${chunks.length} chunks`,
          FailureTypes.NotFound,
        );
      }
      const stored = await artifacts.putJson(values);
      return { $kilnValues: { ...stored, count } };
    },
  };
}

/**
 * The list a map reference names. A plan is untrusted and can hold such an object as a literal:
 * only a well-formed artifact uri is read, and a missing artifact is no fault a retry fixes.
 */
async function readValues(ref: ValuesRef, artifacts: ArtifactStore): Promise<unknown> {
  const uri = String((ref.$kilnValues as { uri?: unknown } | null)?.uri);
  const refuse = (what: string, type: string, cause: unknown) =>
    ApplicationFailure.create({
      message: `a map's results (${JSON.stringify(uri.slice(0, 100))}) ${what}`,
      type,
      nonRetryable: true,
      cause: cause as Error,
    });
  try {
    ArtifactStore.shaOf(uri);
  } catch (error) {
    throw refuse('is not an artifact uri', FailureTypes.InvalidInput, error);
  }
  try {
    return await artifacts.readJson(uri);
  } catch (error) {
    if (error instanceof ArtifactNotFoundError)
      throw refuse('is not in the artifact store', FailureTypes.NotFound, error);
    if (error instanceof SyntaxError) throw refuse('is not a JSON list', FailureTypes.InvalidInput, error);
    throw error;
  }
}

/** A step's input with every map reference replaced by the list it names. */
export async function loadValueRefs(value: unknown, artifacts: ArtifactStore): Promise<unknown> {
  if (isValuesRef(value)) return loadValueRefs(await readValues(value, artifacts), artifacts);
  if (Array.isArray(value)) return Promise.all(value.map((v) => loadValueRefs(v, artifacts)));
  if (value !== null && typeof value === 'object') {
    const entries = await Promise.all(
      Object.entries(value).map(async ([k, v]) => [k, await loadValueRefs(v, artifacts)] as const),
    );
    return Object.fromEntries(entries);
  }
  return value;
}
