import { parseArgs } from 'node:util';
import { ArtifactStore } from '../../activities/artifacts/store';
import { exportEdgeBundle, parseModelRef } from '../../serving/edge/export';
import { edgeStore } from '../../serving/edge/source';
import { loadConfig } from '../../runtime/config';
import { caller, withStore } from '../store';

export const help = `kiln export edge <model>@<alias or version> --out DIR [--token TOKEN]
  Writes a bundle that runs the model in a browser or on a device, offline, from any static server:
  model.onnx (preprocessing inside), signature.json (inputs, types, classes), kiln-edge.js (an ES module:
  const m = await load('./'); await m.predict({ ... }) gives { probabilities, label }), a demo
  index.html, and onnxruntime-web's module and wasm under ort/.
  --out DIR      a new or empty directory; written whole or not at all
  --token TOKEN  act as this token's principal (default KILN_TOKEN, then KILN_HOME/token); needs viewer`;

export async function exportCommand(args: string[], print = console.log): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { out: { type: 'string' }, token: { type: 'string' } },
  });
  const [target, model] = positionals;
  if (target !== 'edge') throw new Error(`export what? the only target is 'edge'; usage:\n${help}`);
  if (!model) throw new Error(`export which model? usage:\n${help}`);
  if (!values.out) throw new Error(`where to? add --out DIR (a new or empty directory)\n${help}`);
  // A malformed reference fails before the store is opened.
  parseModelRef(model);
  const config = loadConfig();
  return withStore(config, async (store) => {
    const principal = await caller(store, config, print, values.token);
    const bundle = await exportEdgeBundle({
      store: edgeStore(store, principal),
      artifacts: new ArtifactStore(config.artifactsDir),
      model,
      out: values.out!,
    });
    const { model: m } = bundle.signature;
    const total = bundle.files.reduce((sum, f) => sum + f.size, 0);
    print(
      `Exported ${m.name} v${m.version} (${model}) to ${bundle.dir}: ${bundle.files.length} files, ${(total / 1e6).toFixed(1)} MB`,
    );
    for (const f of bundle.files) print(`  ${f.path}  ${f.size} bytes`);
    print(`Serve the folder with any static server and open index.html, or: import { load } from './kiln-edge.js'`);
    return 0;
  });
}
