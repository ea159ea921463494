import { ApplicationFailure } from '@temporalio/common';
import { allNodes, type PipelinePlan } from '../dsl';
import type { StepImpl } from '../activities/library';

/**
 * Refuses a plan that feeds a step's approval input (StepDef.approvalInputs) from anything but a
 * `p.approval` gate of the run: a literal `{ approved: true, by: 'alice' }` or a parameter would
 * let a plan claim a decision nobody took at that gate.
 */
export function checkApprovalWiring(plan: PipelinePlan, steps: StepImpl[]): void {
  const defs = new Map(steps.map((s) => [s.def.name, s.def]));
  const nodes = [...allNodes(plan.nodes)];
  const gates = new Set(nodes.filter((n) => n.type === 'approval').map((n) => n.id));
  for (const node of nodes) {
    if (node.type !== 'step') continue;
    for (const field of defs.get(node.step.name)?.approvalInputs ?? []) {
      const binding = node.inputs[field];
      const wired =
        binding?.kind === 'source' &&
        binding.source.kind === 'ref' &&
        binding.source.path.length === 0 &&
        gates.has(binding.source.node);
      if (!wired) {
        throw ApplicationFailure.nonRetryable(
          `step '${node.id}' (${node.step.name}): input '${field}' must be a p.approval gate's decision, passed whole (approval: gate), not a literal, a parameter or a field of one`,
          'InvalidPlan',
          { node: node.id, field },
        );
      }
    }
  }
}
