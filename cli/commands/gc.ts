import { rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ArtifactStore } from '../../activities/artifacts/store';
import { loadConfig } from '../../runtime/config';
import type { Collected } from '../../store/retention';
import { caller, withStore } from '../store';

export const help = `kiln gc --older-than 90d [--dry-run] [--json]
  Retention: deletes the artifact files (under KILN_ARTIFACTS) and the prediction-log rows
  (predictions, errors, labels) older than the window that nothing needs: a registered version
  keeps its model, report, model card and everything upstream of them (its training data);
  a run started within the window, or still running, keeps what it read and wrote. The store
  keeps every artifact's row and lineage, marked deleted. Needs the admin role; audited.
  --older-than N   the window: a number with d (days), h (hours) or m (minutes), e.g. 90d
  --dry-run        list what would be deleted and delete nothing
  --token TOKEN    act as this token's principal (default KILN_TOKEN, then KILN_HOME/token)`;

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90d` → milliseconds. */
export function parseWindow(text: string | undefined): number {
  const match = /^(\d+)([dhm])$/.exec(text ?? '');
  if (!match) throw new Error(`--older-than: expected a number and a unit (d, h or m), e.g. 90d; got '${text ?? ''}'`);
  return Number(match[1]) * UNITS[match[2]!]!;
}

function render(c: Collected): string {
  const verb = c.dryRun ? 'Would delete' : 'Deleted';
  const lines = c.artifacts.map((a) => `  ${a.sha256}  ${a.kind}  ${a.size} bytes`);
  return [
    `${verb} ${c.artifacts.length} artifact file(s), ${c.bytes} bytes, older than ${c.before.toISOString()}:`,
    ...lines,
    `${verb} prediction-log rows: ${c.predictions} predictions, ${c.predictionErrors} errors, ${c.predictionLabels} labels.`,
    ...(c.dryRun ? ['Dry run: nothing was deleted.'] : []),
  ].join('\n');
}

export async function gc(args: string[], print = console.log): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      'older-than': { type: 'string' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
      token: { type: 'string' },
    },
  });
  const before = new Date(Date.now() - parseWindow(values['older-than']));
  const config = loadConfig();
  const artifacts = new ArtifactStore(config.artifactsDir);
  // Deleting from a bucket other workers read is the bucket's business (lifecycle rules), not a local rm.
  if (artifacts.remote && !values['dry-run'])
    throw new Error(
      `kiln gc deletes files in a local artifact folder; KILN_ARTIFACTS is an object store (${config.artifactsDir}): expire its objects with the bucket's lifecycle rules, or run with --dry-run to list them`,
    );
  return withStore(config, async (store) => {
    const principal = await caller(store, config, print, values.token);
    const collected = await store.retention.collect(principal, {
      before,
      dryRun: values['dry-run'] === true,
      removeContent: (sha256) => rm(artifacts.pathOf(sha256), { force: true }),
    });
    print(values.json ? JSON.stringify(collected, null, 2) : render(collected));
    return 0;
  });
}
