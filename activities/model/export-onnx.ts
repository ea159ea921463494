import { invalidData } from '../common/failures';
import type { TransformSpec } from '../common/model/transform';
import { implement } from '../library';
import { loadModel, type ModelSpec } from '../common/model/model';
import { predictProba } from '../common/model/predict';
import { buildOnnx, OnnxExportError, onnxSignatureOf } from './onnx/build';
import { createScorer, type OnnxRecord } from './onnx/session';
import { signatureMismatches } from '../common/model/onnx-signature';
import { exportOnnx } from './steps';
import { storeOnnx } from './onnx/stored';

/** Largest difference allowed between onnxruntime and the trainer's forward pass on the probe rows (float32 vs float64). */
const PROBE_TOLERANCE = 1e-4;

/** A value in bucket k: below the first boundary for 0, else on boundary k − 1. */
const probeBucket = (boundaries: readonly number[], k: number): number =>
  k === 0 ? boundaries[0]! - 1 : boundaries[k - 1]!;

/**
 * Records that visit every fitted category and bucket, numbers from two standard deviations below the mean
 * to two above, and one record with every value missing.
 */
export function probeRecords(spec: TransformSpec, count = 8): OnnxRecord[] {
  const records: OnnxRecord[] = Array.from({ length: count }, (_, i) =>
    Object.fromEntries(
      spec.features.map((f) => [
        f.name,
        f.type === 'numeric'
          ? f.mean + f.std * (-2 + (4 * i) / Math.max(1, count - 1))
          : f.type === 'categorical'
            ? f.categories[i % f.categories.length]!
            : probeBucket(f.boundaries, i % (f.boundaries.length + 1)),
      ]),
    ),
  );
  records.push(Object.fromEntries(spec.features.map((f) => [f.name, null])));
  return records;
}

/** Loads the exported bytes in onnxruntime and checks its signature and its predictions against the trainer's. */
async function selfCheck(model: ModelSpec, bytes: Uint8Array): Promise<number> {
  const signature = onnxSignatureOf(model);
  const scorer = await createScorer(bytes, signature);
  try {
    const problems = signatureMismatches(signature, scorer.session.inputMetadata, scorer.session.outputMetadata);
    if (problems.length > 0)
      throw new Error(
        `the exported graph does not have its own signature: ${problems.join('; ')}; this is a bug in the exporter`,
      );
    const records = probeRecords(model.transform.spec);
    const expected = predictProba(model, records);
    const actual = await scorer.predictProba(records);
    let drift = 0;
    expected.forEach((row, i) =>
      row.forEach((p, k) => {
        drift = Math.max(drift, Math.abs(p - actual[i]![k]!));
      }),
    );
    if (!(drift <= PROBE_TOLERANCE))
      throw new Error(
        `onnxruntime and the trainer differ by ${drift} on probe rows (tolerance ${PROBE_TOLERANCE}); this is a bug in the exporter`,
      );
    return drift;
  } finally {
    await scorer.close();
  }
}

export const exportOnnxImpl = implement(exportOnnx, async (input, ctx) => {
  const model = await loadModel(ctx.artifacts, input.model.uri);
  let bytes: Uint8Array;
  try {
    bytes = buildOnnx(model);
  } catch (error) {
    if (error instanceof OnnxExportError)
      throw invalidData(`model ${input.model.uri}: ${error.message}`, { model: input.model.uri });
    throw error;
  }
  const drift = await selfCheck(model, bytes);
  const signature = onnxSignatureOf(model);
  const onnx = await storeOnnx(ctx.artifacts, bytes, signature);
  ctx.log('exported onnx', { model: input.model.sha256, sha256: onnx.sha256, size: onnx.size, probeDrift: drift });
  return {
    onnx,
    signature,
  };
});
