import type * as TfModule from '@tensorflow/tfjs';

export type Tf = typeof TfModule;
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface TfRuntime {
  tf: Tf;
  /** The backend that runs: 'tensorflow' (tfjs-node, native), 'wasm' or 'cpu' (plain JavaScript). */
  backend: BackendName;
  /** Backends tried first that could not start here, and why. */
  skipped: Array<{ backend: BackendName; reason: string }>;
}

export const DEFAULT_BACKENDS: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

const reasonOf = (error: unknown) => (error instanceof Error ? error.message.split('\n')[0]! : String(error));

async function start(name: BackendName): Promise<Tf> {
  if (name === 'tensorflow') {
    // A variable specifier: tfjs-node is optional and cannot be installed everywhere (its
    // install downloads libtensorflow), so neither tsc nor a bundler may insist on it.
    const specifier = '@tensorflow/tfjs-node';
    const tf = (await import(specifier)) as Tf;
    if (!(await tf.setBackend('tensorflow'))) throw new Error('the tensorflow backend failed to initialize');
    return tf;
  }
  const tf = await import('@tensorflow/tfjs');
  if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  else await import('@tensorflow/tfjs-backend-cpu');
  // In Node the wasm backend reads its .wasm files from its own package folder: no network.
  if (!(await tf.setBackend(name))) throw new Error(`the ${name} backend failed to initialize`);
  await tf.ready();
  return tf;
}

/** Parses KILN_TF_BACKEND ('wasm', or an order such as 'wasm,cpu'); the default order otherwise. */
export function preferredBackends(value = process.env.KILN_TF_BACKEND): BackendName[] {
  if (!value) return [...DEFAULT_BACKENDS];
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!DEFAULT_BACKENDS.includes(name as BackendName)) {
      throw new Error(
        `KILN_TF_BACKEND names '${name}'; use tensorflow, wasm or cpu, or a comma-separated order of them`,
      );
    }
  }
  return names as BackendName[];
}

const started = new Map<string, Promise<TfRuntime>>();

/**
 * Starts TensorFlow.js on the first backend of the order that works: tfjs-node when it is
 * installed, else WebAssembly, else plain JavaScript. One choice per order, per process.
 */
export function tensorflow(order: readonly BackendName[] = preferredBackends()): Promise<TfRuntime> {
  const key = order.join(',');
  let runtime = started.get(key);
  if (!runtime) {
    runtime = (async () => {
      const skipped: TfRuntime['skipped'] = [];
      for (const backend of order) {
        try {
          const tf = await start(backend);
          return { tf, backend, skipped };
        } catch (error) {
          skipped.push({ backend, reason: reasonOf(error) });
        }
      }
      throw new Error(
        `no TensorFlow.js backend could start: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`,
      );
    })();
    started.set(key, runtime);
  }
  return runtime.then(async (r) => {
    // Another order may have switched the global backend since.
    if (r.tf.getBackend() !== r.backend) await r.tf.setBackend(r.backend);
    return r;
  });
}
