import { parseArgs } from 'node:util';
import { loadConfig } from '../../runtime/config';
import { rollbackDeployment } from '../deploy';
import { caller, withStore } from '../store';

export const help = `kiln rollback <model> [--alias production] [--token TOKEN]
  Returns the alias, and all of its traffic, to the version that held it before: ends any canary or
  shadow split and moves the alias back, in one command. Needs the approver role; audited.`;

export async function rollback(args: string[], print = console.log): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { alias: { type: 'string', default: 'production' }, token: { type: 'string' } },
  });
  const [model] = positionals;
  if (!model) throw new Error(`which model? usage:\n${help}`);
  const config = loadConfig();
  const move = await withStore(config, async (store) =>
    rollbackDeployment(store, await caller(store, config, print, values.token), model, values.alias!),
  );
  print(`${model}#${move.alias}: version ${move.previous} -> ${move.version}${move.cleared ? ' (split ended)' : ''}`);
  return 0;
}
