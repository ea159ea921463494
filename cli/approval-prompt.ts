import { createInterface, type Interface } from 'node:readline/promises';
import { decide, type Approver } from './decide';
import type { NodeSnapshot } from '../workflows/protocol';
import type { RunHandle } from './follow';

/**
 * Answers approval gates at the terminal when there is one; otherwise says what the run waits
 * for and how to answer it from another shell. Never waits silently.
 */
export function approvalPrompter(
  handle: RunHandle,
  print: (line: string) => void,
  options: { approver: Approver; interactive: boolean; autoApprove?: boolean },
) {
  let rl: Interface | undefined;
  const ask = async (node: NodeSnapshot) => {
    print(`\n  Gate '${node.id}' waits for approval. Under review: ${JSON.stringify(node.gate?.show)}`);
    print(`  From another shell: kiln approve ${handle.workflowId} ${node.id} [--reject] [--comment "..."]`);
    if (options.autoApprove) {
      const by = await decide(handle, options.approver, node.id, true, 'approved by --approve');
      print(`  approved as ${by} (--approve)`);
      return;
    }
    if (!options.interactive) return;
    rl ??= createInterface({ input: process.stdin, output: process.stdout });
    const answer = (
      await rl.question(`  Approve '${node.id}'? [y]es / [n]o, optionally followed by a comment: `)
    ).trim();
    const approved = /^y(es)?\b/i.test(answer);
    const comment = answer.replace(/^(y(es)?|no?)\b\s*/i, '');
    try {
      const by = await decide(handle, options.approver, node.id, approved, comment || undefined);
      print(`  ${approved ? 'approved' : 'rejected'} as ${by}`);
    } catch (error) {
      print(`  decision not taken: ${(error as Error).message}`);
    }
  };
  return {
    onWaiting: (node: NodeSnapshot) =>
      void ask(node).catch((error: Error) => print(`  approval prompt failed: ${error.message}`)),
    close: () => rl?.close(),
  };
}
