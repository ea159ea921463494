import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { readFileSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';

/** The local user's name, for the first admin of a fresh store (KILN_USER overrides it). */
export const whoami = () => process.env.KILN_USER ?? userInfo().username;

/** Where Kiln finds Temporal, its files and its store; everything comes from the environment. */
export interface KilnConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  /** Web UI base URL, for links to runs. */
  uiUrl: string;
  home: string;
  /** A folder, or `s3://bucket/prefix` for an object store (KILN_ARTIFACTS). */
  artifactsDir: string;
  databaseUrl?: string;
  tls?: {
    serverRootCACertificate?: Buffer;
    clientCertPair?: { crt: Buffer; key: Buffer };
    serverNameOverride?: string;
  };
  apiKey?: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): KilnConfig {
  const home = resolve(env.KILN_HOME ?? '.kiln');
  const read = (name: string) => {
    const path = env[name];
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (error) {
      throw new Error(`${name}=${path} cannot be read: ${(error as Error).message}`, { cause: error });
    }
  };
  const cert = read('TEMPORAL_TLS_CERT');
  const key = read('TEMPORAL_TLS_KEY');
  if (Boolean(cert) !== Boolean(key))
    throw new Error('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together: set both or neither');
  const ca = read('TEMPORAL_TLS_CA');
  const apiKey = env.TEMPORAL_API_KEY;
  const tlsWanted = Boolean(cert || ca || apiKey || env.TEMPORAL_TLS === 'true');
  return {
    address: env.TEMPORAL_ADDRESS ?? 'localhost:7233',
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.KILN_TASK_QUEUE ?? 'kiln',
    uiUrl: (env.TEMPORAL_UI_URL ?? 'http://localhost:8233').replace(/\/$/, ''),
    home,
    // An s3:// location stays as written: ArtifactStore parses it (activities/artifacts/s3-objects.ts).
    artifactsDir: env.KILN_ARTIFACTS?.startsWith('s3://')
      ? env.KILN_ARTIFACTS
      : resolve(env.KILN_ARTIFACTS ?? resolve(home, 'artifacts')),
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
    ...(tlsWanted
      ? {
          tls: {
            ...(ca ? { serverRootCACertificate: ca } : {}),
            ...(cert && key ? { clientCertPair: { crt: cert, key } } : {}),
            ...(env.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: env.TEMPORAL_TLS_SERVER_NAME } : {}),
          },
        }
      : {}),
    ...(apiKey ? { apiKey } : {}),
  };
}

const connectionOptions = (config: KilnConfig) => ({
  address: config.address,
  ...(config.tls ? { tls: config.tls } : {}),
  ...(config.apiKey ? { apiKey: config.apiKey, metadata: { 'temporal-namespace': config.namespace } } : {}),
});

export async function connectClient(config: KilnConfig): Promise<Client> {
  try {
    const connection = await Connection.connect({ ...connectionOptions(config), connectTimeout: '5s' });
    return new Client({ connection, namespace: config.namespace });
  } catch (error) {
    throw new Error(
      `cannot reach Temporal at ${config.address} (namespace ${config.namespace}): ${(error as Error).message}. Start one with \`kiln dev\`, or set TEMPORAL_ADDRESS.`,
      { cause: error },
    );
  }
}

/**
 * Creates a folder of Kiln's own (KILN_HOME, the artifacts, the Temporal database's folder) that
 * only this user may enter, and tightens it if it exists: it holds the store, tokens and data.
 */
export async function privateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  await chmod(path, 0o700);
}

export const connectWorker = (config: KilnConfig) => NativeConnection.connect(connectionOptions(config));

/** The Web UI page of one execution: the UI needs the Temporal run id as well as the workflow id. */
export const runUrl = (config: KilnConfig, workflowId: string, runId: string) =>
  `${config.uiUrl}/namespaces/${encodeURIComponent(config.namespace)}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}/history`;
