import { connectWorker, loadConfig } from '../runtime/config';
import { startLogging, whereLogsGo } from '../runtime/logging';
import { loadSteps, startWorker } from './run-worker';

// A worker process: `tsx workers/main.ts [steps-module.ts] [--verbose]`, configured by the environment like the CLI.
const config = loadConfig();
const args = process.argv.slice(2);
console.log(whereLogsGo(startLogging({ home: config.home, verbose: args.includes('--verbose') })));
const stepsModule = args.find((a) => a !== '--verbose');
const extraSteps = stepsModule ? await loadSteps(stepsModule) : [];
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
