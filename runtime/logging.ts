import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Runtime, type LogLevel, type LogMetadata, type Logger as TemporalLogger } from '@temporalio/worker';
import { pino, type Level, type Logger } from 'pino';
import { createStream } from 'rotating-file-stream';

// Where a Kiln process's logs go: every record of Temporal's runtime logger (the worker's, and the
// steps' own ctx.log and workflow records, which reach it through the activity and workflow loggers)
// as one JSON line in KILN_HOME/logs/kiln.log, rotated by size; the terminal gets
// warnings and errors only, one line each, unless --verbose asks for everything there too.

/** Fields kept out of the terminal: a task token lets whoever holds it complete or fail the activity. */
const SECRET_FIELDS: ReadonlySet<string> = new Set(['taskToken']);

/** Rotation: a new file past this size, and this many rotated files kept beside the current one. */
const ROTATE_SIZE = '10M';
const ROTATED_KEPT = 5;

export interface Logging {
  /** The file the JSON lines go to. */
  file: string;
  verbose: boolean;
}

/** A record as one terminal line: the level, the message, and its fields less any secret. */
export function terminalLine(record: Record<string, unknown>): string {
  const { level, msg, time: _time, pid: _pid, hostname: _hostname, ...fields } = record;
  const shown = Object.fromEntries(Object.entries(fields).filter(([key]) => !SECRET_FIELDS.has(key)));
  const label = typeof level === 'number' ? (pino.levels.labels[level] ?? String(level)) : String(level);
  const rest = Object.keys(shown).length ? `  ${JSON.stringify(shown)}` : '';
  return `[${label.toUpperCase()}] ${String(msg ?? '')}${rest}\n`;
}

/** Writes pino's JSON lines to `out` as terminal lines. */
function terminal(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      out.write(terminalLine(JSON.parse(chunk.toString()) as Record<string, unknown>));
      done();
    },
  });
}

const LEVELS: Record<LogLevel, Level> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

/** Temporal's Logger interface, writing into a pino logger. */
class TemporalLogs implements TemporalLogger {
  constructor(private readonly to: Logger) {}
  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    this.to[LEVELS[level]]({ ...meta }, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

let started: Logging | undefined;

/**
 * Sends this process's logs to `home`/logs/kiln.log and Temporal's runtime logger into them; call it
 * before the first worker connection. One per process: a later call gets the first one.
 * @example
 * const { file } = startLogging({ home: config.home, verbose: values.verbose });
 */
export function startLogging(options: { home: string; verbose?: boolean; terminal?: NodeJS.WritableStream }): Logging {
  if (started) return started;
  const dir = join(options.home, 'logs');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = createStream('kiln.log', { path: dir, size: ROTATE_SIZE, maxFiles: ROTATED_KEPT, mode: 0o600 });
  const verbose = Boolean(options.verbose);
  const log = pino(
    { level: 'info', base: { pid: process.pid } },
    pino.multistream([
      { level: 'info', stream: file },
      { level: verbose ? 'info' : 'warn', stream: terminal(options.terminal ?? process.stderr) },
    ]),
  );
  // Temporal's native core keeps printing its own warnings to stderr: forwarding them here
  // (telemetryOptions.logging.forward) would hold the process open after a command fails.
  Runtime.install({ logger: new TemporalLogs(log.child({ source: 'temporal' })) });
  started = { file: join(dir, 'kiln.log'), verbose };
  return started;
}

/** The line a command prints once, so a user knows where the records went. */
export const whereLogsGo = ({ file, verbose }: Logging) =>
  verbose ? `Logs: ${file} (and here)` : `Logs: ${file} (--verbose prints them here too)`;
