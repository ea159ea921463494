import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AuthenticationError, openStore, type Principal, type Store } from '../store';
import { whoami, type KilnConfig } from '../runtime/config';

/**
 * The store a command works on: PostgreSQL at DATABASE_URL, else PGlite under KILN_HOME.
 * Opening applies pending migrations. `share` is for the long-lived process (worker, `kiln dev`)
 * that serves a PGlite directory to CLI commands run meanwhile.
 */
export const openKilnStore = (config: KilnConfig, options: { share?: boolean } = {}) =>
  openStore(config.databaseUrl ? { url: config.databaseUrl } : { dir: join(config.home, 'db'), ...options });

/** Opens the store for one command and closes it whatever happens. */
export async function withStore<T>(config: KilnConfig, work: (store: Store) => Promise<T>): Promise<T> {
  const store = await openKilnStore(config);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

const tokenFile = (config: KilnConfig) => join(config.home, 'token');

/**
 * On a PGlite store with no principals at all, makes the local user its admin, with a token kept
 * in KILN_HOME/token (mode 600): a fresh local setup works at once, and the store's files are
 * this user's anyway. A PostgreSQL store is shared, so its first admin is made on purpose
 * (`kiln token create --bootstrap`). Returns the token, or undefined when there is none to make.
 */
export async function bootstrapLocalAdmin(
  store: Store,
  config: KilnConfig,
  print: (line: string) => void,
): Promise<string | undefined> {
  if (config.databaseUrl) return undefined;
  const created = await store.access.bootstrapAdmin(whoami(), (c) => saveToken(config, c.token));
  if (!created) return undefined;
  print(
    `Created admin '${created.principal.name}' for this store; its token is in ${tokenFile(config)} (KILN_TOKEN overrides it).`,
  );
  return created.token;
}

/** Keeps a token in KILN_HOME/token (mode 600); bootstrapAdmin calls it before it commits the admin. */
export async function saveToken(config: KilnConfig, token: string): Promise<void> {
  try {
    await mkdir(config.home, { recursive: true, mode: 0o700 });
    await writeFile(tokenFile(config), `${token}\n`, { mode: 0o600 });
    await chmod(tokenFile(config), 0o600);
  } catch (error) {
    throw new Error(
      `could not keep the token in ${tokenFile(config)}, so no admin was made: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** The token kept in KILN_HOME/token, or undefined when there is none. */
async function savedToken(config: KilnConfig): Promise<string | undefined> {
  try {
    return (await readFile(tokenFile(config), 'utf8')).trim() || undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read the token in ${tokenFile(config)}: ${(error as Error).message}`, { cause: error });
  }
}

const askForToken = () =>
  `set KILN_TOKEN or pass --token-file PATH, or ask an admin for \`kiln token create --name ${whoami()} --role <role>\``;

/**
 * Who is calling: the principal of the token given (--token), in KILN_TOKEN, or in
 * KILN_HOME/token. The store checks every action against this principal's role.
 */
export async function caller(
  store: Store,
  config: KilnConfig,
  print: (line: string) => void,
  given?: string,
): Promise<Principal> {
  const explicit = given ?? process.env.KILN_TOKEN;
  const saved = explicit === undefined ? await savedToken(config) : undefined;
  const token = explicit ?? saved ?? (await bootstrapLocalAdmin(store, config, print));
  if (!token) {
    const first =
      config.databaseUrl && !(await store.access.hasPrincipals())
        ? `this PostgreSQL store has no principals yet: make its first admin with \`kiln token create --bootstrap --name ${whoami()}\``
        : askForToken();
    throw new Error(`no token: ${first}`);
  }
  if (token !== saved) return store.access.authenticate(token);
  try {
    return await store.access.authenticate(saved);
  } catch (error) {
    if (!(error instanceof AuthenticationError)) throw error;
    // KILN_HOME/token outlives the store it was made for (`rm -rf .kiln/db`): a fresh PGlite store
    // with no principals makes this user its admin again (bootstrapLocalAdmin declines otherwise).
    const fresh = await bootstrapLocalAdmin(store, config, print);
    if (!fresh)
      throw new AuthenticationError(
        `the token in ${tokenFile(config)} is not valid for this store (unknown, revoked or expired): ${askForToken()}`,
      );
    return store.access.authenticate(fresh);
  }
}
