import { join } from 'node:path';
import { builtinSteps } from '../activities';
import { advertiseCatalog } from './catalog-advert';
import { LiveSteps } from './live-steps';
import { loadStepModule, type StepModule } from './step-modules';
import { staleVersions } from './step-versions';
import { watchStepModules } from './watch-steps';

/**
 * A worker's steps: the built-ins and those of the project's step modules, advertised in
 * KILN_HOME for `kiln run` to check plans against. With `watch` (kiln dev), an edited module is
 * loaded again and its steps replace the old ones for new runs; runs in flight keep theirs.
 * A step whose code changed under the same declared version is warned about.
 */
export async function startProjectSteps(options: {
  home: string;
  taskQueue: string;
  /** Temporal identity of the worker that runs these steps: the advert's name. */
  identity: string;
  modules: readonly string[];
  watch?: boolean;
  print(line: string): void;
}): Promise<{ live: LiveSteps; close(): Promise<void> }> {
  const bundleDir = join(options.home, 'steps');
  const versionsFile = join(bundleDir, 'versions.json');
  const warn = async (modules: StepModule[]) => {
    for (const warning of await staleVersions(modules, versionsFile)) options.print(`Warning: ${warning}`);
  };
  const modules: StepModule[] = [];
  for (const file of options.modules) modules.push(await loadStepModule(file, bundleDir));
  await warn(modules);
  const all = (loaded: readonly StepModule[]) => [...builtinSteps, ...loaded.flatMap((m) => m.steps)];
  const live = new LiveSteps(all(modules));
  const advertise = () =>
    advertiseCatalog(options.home, { identity: options.identity, taskQueue: options.taskQueue, steps: live.names() });
  let advert = await advertise();
  for (const m of modules) options.print(`Steps from ${m.file}: ${m.steps.map((s) => s.def.name).join(', ')}`);
  const watcher =
    options.watch && modules.length
      ? watchStepModules(modules, {
          bundleDir,
          onReload: async (current, changed) => {
            await warn([changed]);
            live.replace(all(current));
            advert = await advertise();
            options.print(
              `Reloaded ${changed.file} (code ${changed.codeHash.slice(0, 12)}): ${changed.steps.map((s) => s.def.name).join(', ')}; runs in flight finish on the code they started with`,
            );
          },
          onError: (file, error) =>
            options.print(`Reloading ${file} failed; its steps stay as they were: ${error.message}`),
        })
      : undefined;
  return {
    live,
    async close() {
      watcher?.close();
      await advert.withdraw();
    },
  };
}
