import { parseArgs } from 'node:util';
import { connectClient, loadConfig } from '../../runtime/config';
import { rolloutStatusQuery } from '../../workflows';
import { decideRollout, describeRollout, rolloutHandle } from '../deploy';
import { caller, withStore } from '../store';

export const help = `kiln deploy status|promote|abort <rollout> [--token TOKEN]
  A rollout started by a pipeline's deploy step; its id is <run-id>/<node> (e.g. run-7/deploy).
  status    the candidate, the split, the last check of each gate, and the decision once made
  promote   promotes the candidate now (approver role; recorded, then sent; audited)
  abort     rolls the candidate back now (approver role; recorded, then sent; audited)`;

export async function deployCommand(args: string[], print = console.log): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { token: { type: 'string' } } });
  const [action, rollout] = positionals;
  if (!rollout || !['status', 'promote', 'abort'].includes(action ?? '')) throw new Error(`usage:\n${help}`);
  const config = loadConfig();
  const client = await connectClient(config);
  try {
    if (action === 'status') {
      print(describeRollout(rollout, await rolloutHandle(client, rollout).query(rolloutStatusQuery)));
      return 0;
    }
    const status = await withStore(config, async (store) => {
      const principal = await caller(store, config, print, values.token);
      return decideRollout(client, store, principal, rollout, action as 'promote' | 'abort');
    });
    print(`${action === 'promote' ? 'Promoting' : 'Aborting'} rollout ${rollout}`);
    print(describeRollout(rollout, status));
    return 0;
  } finally {
    await client.connection.close();
  }
}
