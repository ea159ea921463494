import { watch, type FSWatcher } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadStepModule, type StepModule } from './step-modules';

/**
 * Watches step modules and the project files they import; when one changes, loads its module
 * again and hands over every module's current steps. A module that fails to load keeps its old
 * steps, and the error is reported.
 */
export function watchStepModules(
  modules: readonly StepModule[],
  options: {
    bundleDir: string;
    onReload(modules: StepModule[], changed: StepModule): void | Promise<void>;
    onError(file: string, error: Error): void;
    debounceMs?: number;
  },
): { close(): void } {
  const current = [...modules];
  // Folders, not files: editors often replace a file (write a copy, rename it over), which a
  // watch on the old file never reports.
  const watchers = new Map<string, FSWatcher>();
  const timers = new Map<number, NodeJS.Timeout>();
  let closed = false;
  const reload = async (index: number) => {
    const before = current[index]!;
    try {
      const after = await loadStepModule(before.file, options.bundleDir);
      if (closed || after.codeHash === before.codeHash) return;
      current[index] = after;
      followInputs();
      await options.onReload([...current], after);
    } catch (error) {
      options.onError(before.file, error as Error);
    }
  };
  const changed = (path: string) =>
    current.forEach((module, index) => {
      if (!module.inputs.includes(path)) return;
      clearTimeout(timers.get(index));
      // An editor's save is several events (truncate, write, rename): reload once they settle.
      timers.set(
        index,
        setTimeout(() => void reload(index), options.debounceMs ?? 150),
      );
    });
  const followInputs = () => {
    for (const dir of new Set(current.flatMap((m) => m.inputs.map((input) => dirname(input))))) {
      if (watchers.has(dir)) continue;
      watchers.set(
        dir,
        watch(dir, (_event, name) => name && changed(join(dir, name.toString()))),
      );
    }
  };
  followInputs();
  return {
    close() {
      closed = true;
      for (const w of watchers.values()) w.close();
      for (const t of timers.values()) clearTimeout(t);
    },
  };
}
