import type { Column } from '../common/dataset/dataset';
import { invalidData } from '../common/failures';
import type { StepContext } from '../library';
import type { DatasetRef } from '../refs';

// A reader's `sensitive` policy: 'hash' columns are kept and tagged in the dataset's schema, so
// every step downstream shows their values only as keyed hashes; 'drop' columns are not written.

export type SensitivePolicy = Readonly<Record<string, 'hash' | 'drop'>>;

/** The columns as written, and the positions of the read columns they keep. */
export interface Tagged {
  columns: Column[];
  kept: number[];
}

/** Applies the policy to the columns a reader found; a policy naming no column, or dropping the label, fails. */
export function tagColumns(path: string, columns: readonly Column[], policy: SensitivePolicy, label?: string): Tagged {
  for (const [name, how] of Object.entries(policy)) {
    if (!columns.some((c) => c.name === name))
      throw invalidData(`${path}: sensitive column '${name}' is not in the data (${columns.length} columns)`, {
        path,
        column: name,
      });
    if (how === 'drop' && name === label)
      throw invalidData(`${path}: the label '${name}' cannot be dropped as sensitive; use 'hash' to keep it tagged`, {
        path,
        column: name,
      });
  }
  const kept = columns.flatMap((c, i) => (policy[c.name] === 'drop' ? [] : [i]));
  return {
    columns: kept.map((i) => {
      const column = columns[i]!;
      return policy[column.name] === 'hash' ? { ...column, sensitive: true as const } : { ...column };
    }),
    kept,
  };
}

/** Records in the audit trail that the run read these sensitive columns; without a store there is no trail, so it fails. */
export async function auditSensitiveRead(
  ctx: StepContext,
  dataset: DatasetRef,
  policy: SensitivePolicy,
): Promise<void> {
  const columns = Object.keys(policy);
  if (columns.length === 0) return;
  if (!ctx.store)
    throw new Error(
      `reading sensitive columns (${columns.join(', ')}) is audited, and this worker has no store; run it on a worker with one`,
    );
  await ctx.store.audit.readSensitive(dataset, columns);
}
