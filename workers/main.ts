import { connectWorker, loadConfig } from '../runtime/config';
import { loadSteps, startWorker } from './run-worker';

// A worker process: `tsx workers/main.ts [steps-module.ts]`, configured by the environment like the CLI.
const config = loadConfig();
const extraSteps = process.argv[2] ? await loadSteps(process.argv[2]) : [];
const connection = await connectWorker(config);
const { running } = await startWorker({
  connection,
  namespace: config.namespace,
  taskQueue: config.taskQueue,
  artifactsDir: config.artifactsDir,
  extraSteps,
});
console.log(
  `Kiln worker polling '${config.taskQueue}' on ${config.address}; Ctrl-C stops it after running steps finish.`,
);
await running;
await connection.close();
