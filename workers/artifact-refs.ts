import type { ArtifactInput } from '../store';

/** An artifact ref found in a step's input or output, with the path it sits at (its lineage port). */
interface FoundRef {
  port: string;
  artifact: ArtifactInput;
}

const SHA256 = /^[0-9a-f]{64}$/;

const isRef = (v: Record<string, unknown>) =>
  typeof v.kind === 'string' && typeof v.sha256 === 'string' && SHA256.test(v.sha256) && typeof v.size === 'number';

/** What lineage keeps of a ref besides its identity: rows and columns of a dataset, a model's task… */
function summary(ref: Record<string, unknown>): Record<string, unknown> | undefined {
  const { kind: _k, uri: _u, sha256: _s, size: _z, ...rest } = ref;
  return Object.keys(rest).length > 0 ? rest : undefined;
}

/**
 * Walks a step's input or output for artifact refs (`{ kind, sha256, size, uri? }`), which is
 * how lineage learns what a step read and wrote without each step declaring it.
 */
export function findRefs(value: unknown, port = ''): FoundRef[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => findRefs(v, `${port}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  const record = value as Record<string, unknown>;
  if (isRef(record)) {
    const stats = summary(record);
    return [
      {
        port,
        artifact: {
          sha256: record.sha256 as string,
          kind: record.kind as string,
          size: record.size as number,
          ...(typeof record.uri === 'string' ? { uri: record.uri } : {}),
          ...(stats ? { stats } : {}),
        },
      },
    ];
  }
  return Object.entries(record).flatMap(([key, v]) => findRefs(v, port ? `${port}.${key}` : key));
}
