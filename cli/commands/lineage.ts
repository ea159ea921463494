import { parseArgs } from 'node:util';
import { renderLineage } from '../../store';
import { loadConfig } from '../../runtime/config';
import { caller, withStore } from '../store';

export const help = `kiln lineage <target> [--downstream] [--depth N] [--json] [--token TOKEN]
  Where something came from: the datasets and files, code version, plan, parameters, steps
  and runs upstream of it; with --downstream, everything derived from a dataset version.
  target: a model (credit-risk@3, credit-risk@production), an artifact (sha256, a unique
  prefix, or artifact:sha256:<hex>), or a run (run:<id>, or the run id itself).`;

export async function lineage(args: string[], print = console.log): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      downstream: { type: 'boolean' },
      depth: { type: 'string' },
      json: { type: 'boolean' },
      token: { type: 'string' },
    },
  });
  const target = positionals[0];
  if (!target) throw new Error(`lineage of what? usage:\n${help}`);
  const depth = values.depth === undefined ? undefined : Number(values.depth);
  if (depth !== undefined && !(Number.isInteger(depth) && depth >= 1))
    throw new Error(`--depth must be a positive integer, got '${values.depth}'`);
  const config = loadConfig();
  return withStore(config, async (store) => {
    const principal = await caller(store, config, print, values.token);
    const options = depth === undefined ? {} : { maxDepth: depth };
    const graph = values.downstream
      ? await store.lineage.downstream(principal, target, options)
      : await store.lineage.upstream(principal, target, options);
    print(values.json ? JSON.stringify(graph, null, 2) : renderLineage(graph));
    return 0;
  });
}
