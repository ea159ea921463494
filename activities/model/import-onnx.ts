import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { invalidData } from '../common/failures';
import { confinedPath } from '../common/data-roots';
import { implement } from '../library';
import { signatureFrom, signatureMismatches } from '../common/model/onnx-signature';
import { importOnnx } from './steps';
import { storeOnnx } from './onnx/stored';

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!;

export const importOnnxImpl = implement(importOnnx, async (input, ctx) => {
  const { signature: declared } = input;
  const path = await confinedPath(input.path);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR')
      throw invalidData(`there is no .onnx file at '${path}' (relative to ${process.cwd()})`, { path });
    throw error;
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  } catch (error) {
    throw invalidData(`'${path}' is not a model onnxruntime ${ort.env.versions.common} can load: ${firstLine(error)}`, {
      path,
    });
  }
  try {
    const problems = signatureMismatches(declared, session.inputMetadata, session.outputMetadata);
    if (problems.length > 0) {
      throw invalidData(`'${path}' does not match its declared signature: ${problems.join('; ')}`, { path, problems });
    }
    const signature = signatureFrom(session.inputMetadata, session.outputMetadata, declared.classes);
    const onnx = await storeOnnx(ctx.artifacts, bytes, signature);
    ctx.log('imported onnx', { path, sha256: onnx.sha256, size: onnx.size });
    return {
      onnx,
      signature,
    };
  } finally {
    await session.release();
  }
});
