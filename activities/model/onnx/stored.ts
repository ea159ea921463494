import type { ArtifactStore } from '../../artifacts/store';
import { onnxRef, type OnnxSignature } from '../../refs';

/** Stores a graph and its signature as artifacts and returns the reference steps hand on. */
export async function storeOnnx(artifacts: ArtifactStore, bytes: Uint8Array, signature: OnnxSignature) {
  const [stored, storedSignature] = await Promise.all([artifacts.put(bytes), artifacts.putJson(signature)]);
  return onnxRef.parse({
    kind: 'onnx',
    ...stored,
    signature: storedSignature,
    inputs: signature.inputs.map((i) => i.name),
    outputs: signature.outputs.map((o) => o.name),
  });
}
