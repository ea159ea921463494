import { readFile } from 'node:fs/promises';
import { allNodes, resolveParams, type Binding, type PipelinePlan, type StepNode } from '../../dsl';
import { resolve as resolveBinding } from '../../workflows/resolve';
import type { ArtifactStore } from '../../activities/artifacts/store';
import { readCsvImpl } from '../../activities/data/read-csv';
import { checkQualityImpl } from '../../activities/data/quality';
import { checkGatesImpl } from '../../activities/validate/gates';
import type { DataCheck, ModelCheck } from './declaration';
import { runStep } from './local-step';
import { inProject } from './project';

// The data and model checks a pipeline declares, each run through the step implementation the
// pipeline itself runs (data.readCsv and data.quality, validate.gates), so a check passes here
// exactly when the step would pass on the same input.

/** A declared check that cannot run as declared: it names the node and what to fix. */
export class CheckDeclarationError extends Error {
  constructor(
    readonly node: string,
    message: string,
  ) {
    super(`step '${node}': ${message}`);
    this.name = 'CheckDeclarationError';
  }
}

interface Where {
  plan: PipelinePlan;
  root: string;
  artifacts: ArtifactStore;
}

/** The step node `id` of the plan, which must run `stepName`. */
function stepNode(plan: PipelinePlan, id: string, stepName: string): StepNode {
  const nodes = [...allNodes(plan.nodes)];
  const node = nodes.find((n) => n.id === id);
  if (!node) {
    const candidates = nodes.filter((n) => n.type === 'step' && n.step.name === stepName).map((n) => n.id);
    throw new CheckDeclarationError(
      id,
      `no such node in '${plan.name}'; its ${stepName} steps are ${candidates.join(', ') || 'none'}`,
    );
  }
  if (node.type !== 'step' || node.step.name !== stepName)
    throw new CheckDeclarationError(
      id,
      `is ${node.type === 'step' ? `a ${node.step.name} step` : `a ${node.type}`}, not ${stepName}`,
    );
  return node;
}

/** A node's input as the run would see it before any step has run: literals and parameter defaults. */
function declaredInput(plan: PipelinePlan, node: StepNode, field: string): unknown {
  const binding: Binding | undefined = node.inputs[field];
  if (!binding) throw new CheckDeclarationError(node.id, `has no input '${field}'`);
  const params = resolveParams(plan);
  const unknowable = (what: string) => {
    throw new CheckDeclarationError(
      node.id,
      `its ${field} come from ${what} at run time; declare '${field}' in the check`,
    );
  };
  return resolveBinding(binding, {
    value: (id) => unknowable(`step '${id}'`),
    param: (name) => params[name],
    item: (map) => unknowable(`the items of map '${map}'`),
  });
}

/** Reads the sample into a dataset and runs the node's quality checks on it; throws as the step would. */
export async function runDataCheck(check: DataCheck, { plan, root, artifacts }: Where): Promise<void> {
  const node = stepNode(plan, check.node, 'data.quality');
  const checks = check.checks ?? declaredInput(plan, node, 'checks');
  const path = await inProject(check.sample, root);
  const where = { artifacts, pipeline: plan.name, node: node.id };
  const { dataset } = await runStep(readCsvImpl, { path, ...(check.label && { label: check.label }) }, where);
  await runStep(checkQualityImpl, { dataset, checks, onFailure: 'fail' }, where);
}

/** Holds the model's metrics to the node's gates; throws GateFailed as the step would. */
export async function runModelCheck(check: ModelCheck, { plan, root, artifacts }: Where): Promise<void> {
  const node = stepNode(plan, check.node, 'validate.gates');
  const gates = check.gates ?? declaredInput(plan, node, 'gates');
  const metrics = typeof check.metrics === 'string' ? await metricsFile(check.metrics, root) : check.metrics;
  await runStep(checkGatesImpl, { metrics, gates }, { artifacts, pipeline: plan.name, node: node.id });
}

/** A JSON file of metrics: flat (`{ "roc_auc": 0.81 }`) or a model version's (`{ "metrics": { … } }`). */
async function metricsFile(file: string, root: string): Promise<unknown> {
  const text = await readFile(await inProject(file, root), 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const inner = (parsed as { metrics?: unknown } | null)?.metrics;
  return inner !== null && typeof inner === 'object' ? inner : parsed;
}
