import type { ArtifactStore } from '../../activities/artifacts/store';
import type { Column, Row } from '../../activities/common/dataset/dataset';
import { datasetRef } from '../../activities/refs';

/**
 * Stores rows in the version 1 dataset format (JSON Lines), as Kiln wrote datasets before they
 * became Parquet: to test that such datasets stay readable, and what steps make of values of
 * the wrong type, which version 2 files cannot hold.
 */
export async function writeVersion1Dataset(artifacts: ArtifactStore, columns: Column[], rows: Row[]) {
  const header = JSON.stringify({ kind: 'kiln.dataset', version: 1, columns });
  const lines = rows.map((row) => JSON.stringify(columns.map((c) => row[c.name] ?? null)));
  const stored = await artifacts.put(`${[header, ...lines].join('\n')}\n`);
  return datasetRef.parse({ kind: 'dataset', ...stored, rows: rows.length, columns });
}
