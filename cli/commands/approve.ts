import { parseArgs } from 'node:util';
import type { runPipeline } from '../../workflows';
import { connectClient, loadConfig } from '../../runtime/config';
import { decide } from '../decide';

export const help = `kiln approve <run-id> <gate> [--reject] [--comment TEXT] [--token TOKEN]
  Approves (or rejects) a gate the run is waiting at, as the principal of the token (--token,
  KILN_TOKEN, or KILN_HOME/token). Needs the approver role: anyone else is refused, and the
  refusal is audited. The run refuses a decision for a gate that is not waiting.`;

export async function approve(args: string[], print = console.log): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { reject: { type: 'boolean' }, comment: { type: 'string' }, token: { type: 'string' } },
  });
  const [id, gate] = positionals;
  if (!id || !gate) throw new Error(`which run and gate? usage:\n${help}`);
  const config = loadConfig();
  const client = await connectClient(config);
  try {
    const approved = !values.reject;
    const handle = client.workflow.getHandle<typeof runPipeline>(id);
    const by = await decide(
      handle,
      { config, print, ...(values.token ? { token: values.token } : {}) },
      gate,
      approved,
      values.comment,
    );
    print(`${approved ? 'Approved' : 'Rejected'} gate '${gate}' of ${id} as ${by}`);
    return 0;
  } finally {
    await client.connection.close();
  }
}
