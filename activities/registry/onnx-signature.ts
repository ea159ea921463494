import { invalidData } from '../common/failures';
import type { ArtifactStore } from '../artifacts/store';
import { signatureMismatches, type ValueMetadata } from '../common/model/onnx-signature';
import { onnxSignature, type OnnxRef, type OnnxSignature, type OnnxValue } from '../refs';

const asMetadata = (v: OnnxValue): ValueMetadata => ({
  name: v.name,
  isTensor: true,
  type: v.type,
  shape: (v.shape ?? []).map((d) => d ?? -1),
});

/**
 * The signature a registered ONNX graph's version records: the declared one, checked against the
 * signature stored beside the graph (what onnxruntime read from it), or that stored one when none
 * is declared. `format: 'onnx'` tells a reader the version's artifact is an .onnx file.
 */
export async function onnxVersionSignature(
  artifacts: ArtifactStore,
  ref: OnnxRef,
  declared: unknown,
  step: string,
): Promise<{ format: 'onnx' } & OnnxSignature> {
  const stored = onnxSignature.parse(await artifacts.readJson<unknown>(ref.signature.uri));
  if (declared === undefined) return { format: 'onnx', ...stored };
  const { format: _format, ...rest } = declared as { format?: unknown };
  const parsed = onnxSignature.safeParse(rest);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'signature'}: ${i.message}`).join('; ');
    throw invalidData(
      `${step}: the signature given for ONNX model ${ref.uri} is not an ONNX signature (inputs, outputs, classes): ${issues}`,
      { model: ref.uri },
    );
  }
  const problems = signatureMismatches(parsed.data, stored.inputs.map(asMetadata), stored.outputs.map(asMetadata));
  if (parsed.data.classes && stored.classes && parsed.data.classes.join('\n') !== stored.classes.join('\n')) {
    problems.push(
      `classes: declared ${parsed.data.classes.join(', ')}, the graph was imported with ${stored.classes.join(', ')}`,
    );
  }
  if (problems.length > 0) {
    throw invalidData(`${step}: the signature given does not match ONNX model ${ref.uri}: ${problems.join('; ')}`, {
      model: ref.uri,
      problems,
    });
  }
  return {
    format: 'onnx',
    ...parsed.data,
    ...(parsed.data.classes || !stored.classes ? {} : { classes: stored.classes }),
  };
}
