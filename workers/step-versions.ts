import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AUTO_VERSION } from '../dsl';
import type { StepModule } from './step-modules';

/** What a worker last loaded for each step: its declared version and the hash of its code. */
type Seen = Record<string, { version: string; codeHash: string }>;

/**
 * Compares the steps just loaded with what was loaded last time (kept in `file`), and returns a
 * warning for each step whose code changed while its declared version did not: its cached
 * results would come from the old code. Steps declared `version: 'auto'` follow their code.
 * Steps of one module share its hash, so editing one step of a module flags its neighbours too.
 */
export async function staleVersions(modules: readonly StepModule[], file: string): Promise<string[]> {
  const seen: Seen = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as Seen;
  const warnings: string[] = [];
  for (const module of modules)
    for (const { def } of module.steps) {
      const before = seen[def.name];
      if (def.version !== AUTO_VERSION && before?.version === def.version && before.codeHash !== module.codeHash)
        warnings.push(
          `step '${def.name}' (${module.file}) changed but its version is still '${def.version}': results cached under that version came from the old code and would be reused. Bump its version, or declare version: 'auto'`,
        );
      seen[def.name] = { version: def.version, codeHash: module.codeHash };
    }
  // A fresh KILN_HOME has no steps folder yet.
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(seen, null, 2), { mode: 0o600 });
  await rename(tmp, file);
  return warnings;
}
