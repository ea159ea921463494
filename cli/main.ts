import * as approve from './commands/approve';
import * as audit from './commands/audit';
import * as cardCmd from './commands/card';
import * as consoleCmd from './commands/console';
import * as checkCmd from './commands/check';
import * as demo from './commands/demo';
import * as deployCmd from './commands/deploy';
import * as dev from './commands/dev';
import * as exportCmd from './commands/export';
import * as gcCmd from './commands/gc';
import * as lineage from './commands/lineage';
import * as models from './commands/models';
import * as monitorCmd from './commands/monitor';
import * as plan from './commands/plan';
import * as rollbackCmd from './commands/rollback';
import * as run from './commands/run';
import * as scheduleCmd from './commands/schedule';
import * as serve from './commands/serve';
import * as status from './commands/status';
import * as storeCmd from './commands/store';
import * as streamCmd from './commands/stream';
import * as token from './commands/token';
import * as worker from './commands/worker';
import { takeTokenFile, tokenFileHelp } from './token-option';

/** A command with subcommands may answer `--help` for the one named (`helpFor`). */
type Command = { help: string; helpFor?: (args: string[]) => string } & Record<string, unknown>;
const commands: Record<string, [Command, (args: string[]) => Promise<number>]> = {
  demo: [demo, demo.demo],
  dev: [dev, dev.dev],
  run: [run, run.run],
  status: [status, status.status],
  approve: [approve, approve.approve],
  plan: [plan, plan.plan],
  check: [checkCmd, checkCmd.check],
  worker: [worker, worker.worker],
  lineage: [lineage, lineage.lineage],
  models: [models, models.models],
  serve: [serve, serve.serve],
  stream: [streamCmd, streamCmd.stream],
  deploy: [deployCmd, deployCmd.deployCommand],
  rollback: [rollbackCmd, rollbackCmd.rollback],
  audit: [audit, audit.audit],
  token: [token, token.token],
  store: [storeCmd, storeCmd.store],
  export: [exportCmd, exportCmd.exportCommand],
  schedule: [scheduleCmd, scheduleCmd.schedule],
  monitor: [monitorCmd, monitorCmd.monitor],
  console: [consoleCmd, consoleCmd.consoleCommand],
  gc: [gcCmd, gcCmd.gc],
  card: [cardCmd, cardCmd.card],
};

/** The commands that act as a principal: they take --token, and --token-file here for all of them. */
const actsAsPrincipal = new Set([
  'run',
  'approve',
  'lineage',
  'models',
  'serve',
  'stream',
  'deploy',
  'rollback',
  'audit',
  'token',
  'export',
  'schedule',
  'monitor',
  'gc',
  'card',
]);

const usage = `kiln: typed ML pipelines on Temporal

Usage: kiln <command> [options]   (kiln <command> --help for its options)

${Object.values(commands)
  .map(([c]) => `  ${c.help.split('\n')[0]}`)
  .join('\n')}

Environment: TEMPORAL_ADDRESS (localhost:7233), TEMPORAL_NAMESPACE (default), TEMPORAL_TLS_CERT,
TEMPORAL_TLS_KEY, TEMPORAL_TLS_CA, TEMPORAL_TLS_SERVER_NAME, TEMPORAL_API_KEY, TEMPORAL_UI_URL,
KILN_TASK_QUEUE (kiln), KILN_HOME (.kiln), KILN_ARTIFACTS (KILN_HOME/artifacts), DATABASE_URL
(PostgreSQL for the store; PGlite under KILN_HOME when unset), KILN_TOKEN (the caller's API token;
--token-file PATH overrides it, else KILN_HOME/token), KILN_USER (the local user's name for a fresh store's first admin),
KILN_SOURCE_DATABASE_URL (where data.readPostgres reads), NATS_URL (kiln stream), KILN_TF_BACKEND,
OTEL_* (tracing).`;

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage);
    return name ? 0 : 2;
  }
  const entry = commands[name];
  if (!entry) {
    console.error(`kiln: unknown command '${name}'\n\n${usage}`);
    return 2;
  }
  const token = actsAsPrincipal.has(name);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(`${entry[0].helpFor?.(args) ?? entry[0].help}${token ? `\n${tokenFileHelp}` : ''}`);
    return 0;
  }
  return entry[1](token ? takeTokenFile(args, process.env, (line) => console.error(line)) : args);
}

// `kiln status … | head -1`: the reader has gone, so the rest of the output has nowhere to go.
// Dropped quietly, as a program killed by SIGPIPE would, instead of an unhandled 'error' event.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    const causes = [];
    for (let e: unknown = error.cause; e instanceof Error; e = e.cause) causes.push(e.message);
    console.error(`kiln: ${[error.message, ...causes].join(': ')}`);
    process.exitCode = 1;
  },
);
