import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, mkdir, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ArtifactStore } from '../../activities/artifacts/store';
import { buildOnnx, OnnxExportError } from '../../activities/model/onnx/build';
import { onnxSignature } from '../../activities/refs';
import { artifactUri } from '../../activities/refs';
import { loadModel } from '../../activities/common/model/model';
import { NotFoundError } from '../../store';
import { EdgeExportError } from './errors';
import { writeWholeFolder } from './out-dir';
import { signatureOfGraph, signatureOfModel, type EdgeSignature } from './signature';
import { registeredVersion, type EdgeStore, type RegisteredVersion } from './source';

const GRAPH = 'model.onnx';
const runtime = (file: string) => fileURLToPath(new URL(`./runtime/${file}`, import.meta.url));

/**
 * onnxruntime-web's files a bundle serves itself: the wasm-only ES module (its Emscripten loader
 * inside) and the wasm binary it fetches from beside itself.
 */
function onnxruntimeWebFiles(): string[] {
  const wasm = createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm');
  return [join(dirname(wasm), 'ort.wasm.bundle.min.mjs'), wasm];
}

/** `credit-risk@production` or `credit-risk@3` as a name and a version or alias. */
export function parseModelRef(text: string): { name: string; versionOrAlias: string } {
  const match = /^([^@\s]+)@([^@\s]+)$/.exec(text);
  if (!match)
    throw new EdgeExportError(`expected <model>@<alias or version>, e.g. credit-risk@production; got '${text}'`);
  return { name: match[1]!, versionOrAlias: match[2]! };
}

/** The graph of a registered version with the bundle's signature: an .onnx artifact as is, a Kiln model exported. */
async function graphOf(
  artifacts: Pick<ArtifactStore, 'read' | 'readJson'>,
  found: RegisteredVersion,
  ref: string,
): Promise<{ bytes: Uint8Array; signature: EdgeSignature }> {
  const uri = artifactUri(found.artifactSha256);
  const model = { name: found.name, version: found.version, artifactSha256: found.artifactSha256, ref };
  const header = (bytes: Uint8Array) => ({
    model,
    graph: { file: GRAPH, sha256: createHash('sha256').update(bytes).digest('hex') },
  });
  if (found.signature?.format === 'onnx') {
    const bytes = await artifacts.read(uri);
    return { bytes, signature: signatureOfGraph(header(bytes), onnxSignature.parse(found.signature)) };
  }
  const spec = await loadModel(artifacts, uri);
  try {
    const bytes = buildOnnx(spec);
    return { bytes, signature: signatureOfModel(header(bytes), spec) };
  } catch (error) {
    if (error instanceof OnnxExportError) throw new EdgeExportError(`${ref}: ${error.message}`, { cause: error });
    throw error;
  }
}

export interface EdgeExportInput {
  store: EdgeStore;
  artifacts: Pick<ArtifactStore, 'read' | 'readJson'>;
  /** `<model>@<alias or version>`. */
  model: string;
  /** A new or empty directory. */
  out: string;
  /** What a relative `out` is relative to; default the process's working directory. */
  cwd?: string;
}

export interface EdgeBundle {
  dir: string;
  signature: EdgeSignature;
  /** Paths inside the bundle, with their sizes in bytes. */
  files: Array<{ path: string; size: number }>;
}

/**
 * Writes a bundle that runs a registered model in a browser or on a device, from a static server
 * and without a network: the ONNX graph (preprocessing inside), signature.json, kiln-edge.js (an ES
 * module over onnxruntime-web that validates plain objects against the signature), a demo
 * index.html and onnxruntime-web's own files under ort/. Written whole or not at all.
 */
export async function exportEdgeBundle(input: EdgeExportInput): Promise<EdgeBundle> {
  const { name, versionOrAlias } = parseModelRef(input.model);
  let found: RegisteredVersion;
  try {
    found = await registeredVersion(input.store, name, versionOrAlias);
  } catch (error) {
    if (error instanceof NotFoundError)
      throw new EdgeExportError(`no registered model ${input.model}`, { cause: error });
    throw error;
  }
  const { bytes, signature } = await graphOf(input.artifacts, found, input.model);
  const ort = onnxruntimeWebFiles();
  const paths: string[] = [];
  const dir = await writeWholeFolder(
    input.out,
    async (staging) => {
      const put = async (path: string, data: Uint8Array | string) => {
        await writeFile(join(staging, path), data, { flag: 'wx' });
        paths.push(path);
      };
      const copy = async (from: string, path: string) => {
        await copyFile(from, join(staging, path), constants.COPYFILE_EXCL);
        paths.push(path);
      };
      await put(GRAPH, bytes);
      await put('signature.json', `${JSON.stringify(signature, null, 2)}\n`);
      await copy(runtime('kiln-edge.js'), 'kiln-edge.js');
      await copy(runtime('index.html'), 'index.html');
      await mkdir(join(staging, 'ort'));
      for (const file of ort) await copy(file, join('ort', basename(file)));
    },
    input.cwd,
  );
  const files = await Promise.all(paths.map(async (path) => ({ path, size: (await stat(join(dir, path))).size })));
  return { dir, signature, files };
}
