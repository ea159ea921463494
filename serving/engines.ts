import { loadModel, type ModelSpec } from '../activities/common/model/model';
import { predictProba, predictValues } from '../activities/common/model/predict';
import { TransformInputError } from '../activities/common/model/transform';
import { buildOnnx, onnxSignatureOf } from '../activities/model/onnx/build';
import { createScorer, OnnxInputError, type OnnxScorer } from '../activities/model/onnx/session';
import { onnxSignature } from '../activities/refs';
import { ModelLoadError, RequestError } from './errors';
import { readSignature, type ServingSignature } from './signature';
import type { VersionArtifact } from './source';

// The two ways a version is run: Kiln's own forward pass over the model document (float64, in
// JavaScript) or onnxruntime-node over the ONNX graph (the exported graph of a Kiln model, which
// has the preprocessing inside, or an imported one). Parity between them: test/serving/engines.test.ts.

export type EngineName = 'kiln' | 'onnx';
export type EngineChoice = EngineName | 'auto';

/**
 * The faster engine per kind of Kiln model, measured by `npx tsx bench/serve/engines.ts` on the
 * German credit model (BENCHMARKS.md, "Serving"): the forward pass in JavaScript beats a call
 * into onnxruntime for these small dense networks, one row or a thousand.
 */
export const FASTER_ENGINE: Record<ModelSpec['architecture'], EngineName> = {
  logistic: 'kiln',
  mlp: 'kiln',
  linear: 'kiln',
};

/** A loaded version: class probabilities (or a regressor's value, as a one-element row) for raw rows. */
export interface Predictor {
  readonly engine: EngineName;
  readonly signature: ServingSignature;
  predict(rows: readonly Record<string, unknown>[]): number[][] | Promise<number[][]>;
  close(): Promise<void>;
}

const asRequestError = (row: number, field: string, message: string) =>
  new RequestError(400, 'InvalidRequest', `row ${row}: feature '${field}': ${message}`, { row, field });

function kilnPredictor(spec: ModelSpec, signature: ServingSignature): Predictor {
  const run =
    spec.task === 'regression'
      ? (rows: readonly Record<string, unknown>[]) => predictValues(spec, rows).map((v) => [v])
      : (rows: readonly Record<string, unknown>[]) => predictProba(spec, rows);
  return {
    engine: 'kiln',
    signature,
    predict(rows) {
      try {
        return run(rows);
      } catch (error) {
        // The schema lets through what JSON types allow; the transform is the last word on values.
        if (error instanceof TransformInputError) {
          const row = rows.findIndex((r) => r[error.feature] === error.value);
          throw asRequestError(Math.max(row, 0), error.feature, error.message.replace(/^feature '.*?': /s, ''));
        }
        throw error;
      }
    },
    close: async () => {},
  };
}

function onnxPredictor(scorer: OnnxScorer, signature: ServingSignature): Predictor {
  return {
    engine: 'onnx',
    signature,
    async predict(rows) {
      try {
        return await scorer.predictProba(rows);
      } catch (error) {
        if (error instanceof OnnxInputError)
          throw asRequestError(error.row, error.input, error.message.replace(/^input '.*?', row \d+: /s, ''));
        throw error;
      }
    },
    close: () => scorer.close(),
  };
}

/** The signature Kiln registers for a model document (activities/registry/signature.ts), rebuilt from the model. */
const specSignature = (spec: ModelSpec): ServingSignature => ({
  features: spec.transform.spec.features.map((f) => ({
    name: f.name,
    type: f.type === 'categorical' ? ('category' as const) : ('number' as const),
  })),
  task: spec.task,
  classes: [...spec.classes],
});

async function kilnModel(artifact: VersionArtifact, choice: EngineChoice): Promise<Predictor> {
  const text = Buffer.from(artifact.bytes).toString('utf8');
  const spec = await loadModel(
    { readJson: async <T>() => JSON.parse(text) as T },
    `artifact:sha256:${artifact.sha256}`,
  );
  const signature = readSignature(artifact.signature) ?? specSignature(spec);
  const engine = choice === 'auto' ? FASTER_ENGINE[spec.architecture] : choice;
  if (engine === 'kiln' || spec.task === 'regression') return kilnPredictor(spec, signature);
  return onnxPredictor(await createScorer(buildOnnx(spec), onnxSignatureOf(spec)), signature);
}

async function onnxGraph(artifact: VersionArtifact, choice: EngineChoice): Promise<Predictor> {
  if (choice === 'kiln') throw new Error(`it is an ONNX graph, which only engine 'onnx' runs`);
  const { format: _format, ...declared } = (artifact.signature ?? {}) as Record<string, unknown>;
  const parsed = onnxSignature.safeParse(declared);
  const signature = readSignature(artifact.signature);
  if (!parsed.success || !signature)
    throw new Error(`its registered signature is not an ONNX signature with inputs, outputs and at least two classes`);
  return onnxPredictor(await createScorer(artifact.bytes, parsed.data), signature);
}

/** Loads a registered version into the engine chosen (`auto`: the faster one for its kind). */
export async function loadPredictor(artifact: VersionArtifact, choice: EngineChoice = 'auto'): Promise<Predictor> {
  try {
    switch (artifact.kind) {
      case 'model':
        return await kilnModel(artifact, choice);
      case 'onnx':
        return await onnxGraph(artifact, choice);
      default:
        throw new Error(`its artifact is a '${artifact.kind}', not a model or an ONNX graph`);
    }
  } catch (error) {
    throw new ModelLoadError(artifact.model, artifact.version, (error as Error).message, { cause: error });
  }
}
