import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { appendFile, chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { canonicalJson } from '../dsl/canonical';
import type { Principal } from './access';
import type { AuditApi } from './audit';

/**
 * A signed statement that the audit trail's record `seq` had `hash`: whoever can rewrite the table
 * (and re-hash the chain) cannot sign, so a rewrite or a removed tail up to `seq` shows.
 */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
  at: string;
  /** Fingerprint of the public key that signs it (sha256 of its DER, first 16 hex digits). */
  key: string;
  /** Ed25519 signature of signedText(seq, hash, at), base64. */
  signature: string;
}

/** Where the signing key and the checkpoint log live: outside the database, under KILN_HOME by default. */
export interface CheckpointFiles {
  /** An Ed25519 private key (PEM, mode 600); for verifying only, the public key PEM is enough. */
  key: string;
  /** One checkpoint per line (JSON), oldest first. */
  log: string;
}

export const checkpointFiles = (home: string, env: NodeJS.ProcessEnv = process.env): CheckpointFiles => ({
  key: resolve(env.KILN_AUDIT_KEY ?? join(home, 'audit-key.pem')),
  log: resolve(env.KILN_AUDIT_CHECKPOINTS ?? join(home, 'audit-checkpoints.jsonl')),
});

export type TrailCheck =
  | { ok: true; count: number; checkpoints: number; last?: AuditCheckpoint }
  | {
      ok: false;
      /** record: the chain itself is broken; signature: a checkpoint does not verify with the key;
       * rewritten: a record differs from what a checkpoint signed; truncated: records a checkpoint signed are gone. */
      problem: 'record' | 'signature' | 'rewritten' | 'truncated';
      seq: number;
      reason: string;
    };

/** Refused to sign: the trail does not verify against itself or against the newest checkpoint. */
export class AuditTamperedError extends Error {
  constructor(readonly check: Extract<TrailCheck, { ok: false }>) {
    super(`the audit trail does not verify, so no checkpoint was signed: record #${check.seq}: ${check.reason}`);
    this.name = 'AuditTamperedError';
  }
}

const signedText = (c: Pick<AuditCheckpoint, 'seq' | 'hash' | 'at'>) =>
  canonicalJson({ kind: 'kiln.audit.checkpoint', seq: c.seq, hash: c.hash, at: c.at });

const fingerprint = (key: KeyObject) =>
  createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);

const missing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/** The signing key in `path`, made (mode 600, in a 700 folder) when there is none yet. */
async function signingKey(path: string): Promise<KeyObject> {
  try {
    return createPrivateKey(await readFile(path));
  } catch (error) {
    if (!missing(error))
      throw new Error(`cannot read the audit signing key ${path}: ${(error as Error).message}`, { cause: error });
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  try {
    // `wx`: a key another process made meanwhile is kept, not overwritten.
    await writeFile(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return createPrivateKey(await readFile(path));
  }
  return privateKey;
}

/** The public key from `path` (a private or a public key PEM); undefined when the file does not exist. */
async function verifyingKey(path: string): Promise<KeyObject | undefined> {
  let pem: Buffer;
  try {
    pem = await readFile(path);
  } catch (error) {
    if (missing(error)) return undefined;
    throw new Error(`cannot read the audit key ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return createPublicKey(pem);
  } catch (error) {
    throw new Error(`${path} is not an Ed25519 key in PEM: ${(error as Error).message}`, { cause: error });
  }
}

/** The checkpoints in the log, oldest first; a line that is not a checkpoint is an error naming it. */
async function readCheckpoints(log: string): Promise<AuditCheckpoint[]> {
  let text: string;
  try {
    text = await readFile(log, 'utf8');
  } catch (error) {
    if (missing(error)) return [];
    throw new Error(`cannot read the audit checkpoints ${log}: ${(error as Error).message}`, { cause: error });
  }
  return text
    .split('\n')
    .map((line, i) => ({ line, n: i + 1 }))
    .filter(({ line }) => line.trim() !== '')
    .map(({ line, n }) => {
      let value: Partial<AuditCheckpoint>;
      try {
        value = JSON.parse(line) as Partial<AuditCheckpoint>;
      } catch (error) {
        throw new Error(`${log}:${n}: not JSON: ${(error as Error).message}`, { cause: error });
      }
      const { seq, hash, at, key, signature } = value;
      if (
        !Number.isInteger(seq) ||
        (seq as number) < 1 ||
        typeof hash !== 'string' ||
        typeof at !== 'string' ||
        typeof key !== 'string' ||
        typeof signature !== 'string'
      )
        throw new Error(`${log}:${n}: not a checkpoint (needs seq >= 1, hash, at, key and signature)`);
      return { seq: seq as number, hash, at, key, signature };
    });
}

const signatureHolds = (c: AuditCheckpoint, publicKey: KeyObject) =>
  verify(null, Buffer.from(signedText(c)), publicKey, Buffer.from(c.signature, 'base64'));

/**
 * Verifies the chain (first bad record), then every checkpoint in the log against the public key
 * in `files.key` (its signature, that its record still has the hash it signed, and that the trail
 * still reaches it). Events after the newest checkpoint are covered by the chain only: removing
 * them is not detected.
 */
export async function checkTrail(audit: AuditApi, actor: Principal, files: CheckpointFiles): Promise<TrailCheck> {
  const chain = await audit.verifyAudit(actor);
  if (!chain.ok) return { ok: false, problem: 'record', seq: chain.seq, reason: chain.reason };
  const checkpoints = await readCheckpoints(files.log);
  if (checkpoints.length === 0) return { ok: true, count: chain.count, checkpoints: 0 };
  const publicKey = await verifyingKey(files.key);
  if (!publicKey)
    throw new Error(
      `${files.log} holds ${checkpoints.length} checkpoints but there is no key at ${files.key} to verify them (set KILN_AUDIT_KEY)`,
    );
  const hashes = await audit.hashesAt(
    actor,
    checkpoints.map((c) => c.seq).filter((seq) => seq <= chain.count),
  );
  let good = 0;
  for (const c of checkpoints) {
    if (!signatureHolds(c, publicKey))
      return {
        ok: false,
        problem: 'signature',
        seq: c.seq,
        reason: `the checkpoint of #${c.seq} signed ${c.at} does not verify with the key ${fingerprint(publicKey)} (${files.key}); it names key ${c.key}`,
      };
    if (c.seq > chain.count)
      return {
        ok: false,
        problem: 'truncated',
        seq: chain.count + 1,
        reason: `the trail ends at #${chain.count}, but a checkpoint signed ${c.at} covers #${c.seq}: records #${chain.count + 1} to #${c.seq} (and any after) were removed`,
      };
    if (hashes.get(c.seq) !== c.hash)
      return {
        ok: false,
        problem: 'rewritten',
        seq: c.seq,
        reason: `record #${c.seq} is not the one the checkpoint signed ${c.at} names: a record from #${good + 1} to #${c.seq} was rewritten and the chain re-hashed`,
      };
    good = c.seq;
  }
  return { ok: true, count: chain.count, checkpoints: checkpoints.length, last: checkpoints.at(-1)! };
}

/**
 * Signs the trail's head and appends the checkpoint to the log, after verifying the chain from the
 * newest checkpoint on (which must still hold): a tampered trail is refused (AuditTamperedError),
 * never signed. Returns undefined when there is nothing new to sign.
 */
export async function writeCheckpoint(
  audit: AuditApi,
  actor: Principal,
  files: CheckpointFiles,
): Promise<AuditCheckpoint | undefined> {
  const privateKey = await signingKey(files.key);
  const publicKey = createPublicKey(privateKey);
  const last = (await readCheckpoints(files.log)).at(-1);
  if (last) {
    if (!signatureHolds(last, publicKey))
      throw new AuditTamperedError({
        ok: false,
        problem: 'signature',
        seq: last.seq,
        reason: `the newest checkpoint in ${files.log} does not verify with the key ${fingerprint(publicKey)} (${files.key})`,
      });
    const stored = (await audit.hashesAt(actor, [last.seq])).get(last.seq);
    if (stored !== last.hash)
      throw new AuditTamperedError({
        ok: false,
        problem: stored === undefined ? 'truncated' : 'rewritten',
        seq: last.seq,
        reason: stored === undefined ? 'removed after it was signed' : 'differs from the newest checkpoint',
      });
  }
  const chain = await audit.verifyAudit(actor, last ? { from: last } : {});
  if (!chain.ok) throw new AuditTamperedError({ ok: false, problem: 'record', seq: chain.seq, reason: chain.reason });
  if (chain.count === (last?.seq ?? 0)) return undefined;
  const hash = (await audit.hashesAt(actor, [chain.count])).get(chain.count)!;
  const body = { seq: chain.count, hash, at: new Date().toISOString() };
  const checkpoint: AuditCheckpoint = {
    ...body,
    key: fingerprint(publicKey),
    signature: sign(null, Buffer.from(signedText(body)), privateKey).toString('base64'),
  };
  await mkdir(dirname(files.log), { recursive: true, mode: 0o700 });
  await appendFile(files.log, `${JSON.stringify(checkpoint)}\n`, { mode: 0o600 });
  await chmod(files.log, 0o600);
  return checkpoint;
}

/**
 * Signs a checkpoint at once, then every `intervalMs` (default a minute) when the trail has grown,
 * until the returned stop() is called; a failure (a tampered trail included) goes to `onError`.
 */
export function checkpointEvery(
  audit: AuditApi,
  actor: Principal,
  files: CheckpointFiles,
  options: { intervalMs?: number; onError: (error: unknown) => void },
): () => Promise<void> {
  let writing: Promise<unknown> | undefined;
  const tick = () => {
    if (writing) return;
    writing = writeCheckpoint(audit, actor, files)
      .catch(options.onError)
      .finally(() => {
        writing = undefined;
      });
  };
  tick();
  const timer = setInterval(tick, options.intervalMs ?? 60_000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await writing;
  };
}
