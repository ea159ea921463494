import { z } from 'zod';
import { defineStep } from '../../dsl';
import { onnxRef } from '../refs';
import { approvalDecision, modelRef, reportRef } from '../refs';

// Definitions only (zod, dsl, refs): pipelines import these; the implementations need the worker's store.

/** What `p.approval(...)` outputs: the gate's decision, with who took it. */

/** What a pipeline declares about a model for its card: intended use, owner, known limitations. */
export const cardDeclaration = z.object({
  intendedUse: z.string().max(4000).optional(),
  owner: z.string().max(200).optional(),
  limitations: z.array(z.string().max(2000)).max(50).optional(),
});
export type CardDeclaration = z.infer<typeof cardDeclaration>;

/**
 * Registers a model artifact as a version of a named model, with its metrics, its signature
 * (derived from the model's transform unless given), the run that produced it and the validation
 * report, and writes the version's model card (kiln card), stored as an artifact with the version.
 * Idempotent: the same artifact under the same name is one version however often it runs.
 * A model trained elsewhere registers as the ONNX graph `model.importOnnx` outputs; its version
 * records the declared signature (`format: 'onnx'`, inputs, outputs, classes), which must match the graph.
 * @example const registered = p.step(registerModel, { name: 'credit-risk', model: trained.model, metrics: heldOut.metrics, report: heldOut.report, card: { intendedUse: 'pre-screening loan applications', owner: 'risk-team' } });
 * @example const registered = p.step(registerModel, { name: 'credit-risk-xgb', model: imported.onnx, signature: imported.signature });
 */
export const registerModel = defineStep({
  name: 'registry.register',
  version: '1',
  description: 'Register a model version with metrics, signature, run lineage and validation report',
  input: z.object({
    name: z.string().min(1),
    model: z
      .union([modelRef, onnxRef])
      .describe('a trained model, or an ONNX graph from model.importOnnx or model.exportOnnx'),
    metrics: z.record(z.string(), z.number()).default({}),
    report: reportRef.optional().describe('the validation report the version was accepted on'),
    signature: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        "inputs and output of the model; derived from its transform (or, for ONNX, read from the graph's stored signature) if omitted",
      ),
    card: cardDeclaration
      .optional()
      .describe("the model card's intended use, owner and limitations (kiln card shows them)"),
  }),
  output: z.object({ name: z.string(), version: z.number().int().positive() }),
  // Writes to the registry are effects of this run: never replayed from another run's cache.
  options: { startToCloseTimeout: '5m', cache: false },
});

/**
 * Points an alias (such as `production`) at a model version, acting as the principal who approved
 * it at a gate of this run: that decision must be on record in the store, and its author must
 * hold the approver role.
 * @example
 * const release = p.approval('release', { show: { auc: heldOut.metrics.rocAuc } });
 * p.step(setAlias, { name: 'credit-risk', version: registered.version, alias: 'production', approval: release });
 */
export const setAlias = defineStep({
  name: 'registry.setAlias',
  // 2: acts only on an approval the store has on record, for the gate it names.
  version: '2',
  description: 'Move a model alias to a version, as the approving principal',
  input: z.object({
    name: z.string().min(1),
    version: z.number().int().positive(),
    alias: z.string().min(1),
    approval: approvalDecision.describe(
      "the p.approval gate's decision; it counts only when the store has it on record (kiln approve)",
    ),
  }),
  approvalInputs: ['approval'],
  output: z.object({
    name: z.string(),
    alias: z.string(),
    version: z.number().int().positive(),
    previous: z.number().int().nullable(),
    changed: z.boolean(),
    by: z.string(),
  }),
  options: { startToCloseTimeout: '5m', cache: false },
});
