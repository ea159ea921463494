import { canonicalJson, sha256Hex } from '../dsl/canonical';

/**
 * The key under which a step's result is cached: its definition (name and version) and its
 * resolved inputs. Artifact refs carry their sha256, so equal keys mean equal data.
 */
export const cacheKey = (step: { name: string; version: string }, inputs: unknown): string =>
  sha256Hex(canonicalJson({ step: step.name, version: step.version, inputs }));
