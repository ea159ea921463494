import { parseArgs } from 'node:util';
import { approveUpdate } from '../../workflows';
import { whoami } from '../approval-prompt';
import { connectClient, loadConfig } from '../config';

export const help = `kiln approve <run-id> <gate> [--reject] [--comment TEXT] [--by NAME]
  Approves (or rejects) a gate the run is waiting at. The run refuses a decision for a gate
  that is not waiting.`;

export async function approve(args: string[], print = console.log): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { reject: { type: 'boolean' }, comment: { type: 'string' }, by: { type: 'string' } },
  });
  const [id, gate] = positionals;
  if (!id || !gate) throw new Error(`which run and gate? usage:\n${help}`);
  const config = loadConfig();
  const client = await connectClient(config);
  try {
    const by = values.by ?? whoami();
    const approved = !values.reject;
    await client.workflow.getHandle(id).executeUpdate(approveUpdate, { args: [{ gate, approved, by, ...(values.comment ? { comment: values.comment } : {}) }] });
    print(`${approved ? 'Approved' : 'Rejected'} gate '${gate}' of ${id} as ${by}`);
    return 0;
  } finally {
    await client.connection.close();
  }
}
