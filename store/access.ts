import { createHash, randomBytes } from 'node:crypto';
import { and, asc, eq, gt, isNull, or, sql } from 'drizzle-orm';
import { appendAuditIn } from './audit';
import { AccessDeniedError, AuthenticationError, NotFoundError } from './errors';
import type { Executor } from './executor';
import { apiTokens, principals, roleNames, type PrincipalRow, type RoleName } from './schema/access';

/** Who is acting: a principal resolved from a token, or the local system itself. */
export interface Principal {
  id: string | null;
  name: string;
  role: RoleName;
  tokenId?: string;
}

/**
 * The worker itself, for its own records (runs, steps, artifacts, lineage, registrations). It is
 * recognised by identity, not by its fields: a copy of it is a principal with no role.
 */
export const SYSTEM: Principal = Object.freeze({ id: null, name: 'system', role: 'admin' });

/** The least role each action needs; roles are ranked viewer < operator < approver < admin. */
export const actionRoles = {
  read: 'viewer',
  /** Serve a model: read where its aliases point, log its predictions and their labels. */
  serve: 'viewer',
  'run.start': 'operator',
  'run.cancel': 'operator',
  'schedule.manage': 'operator',
  /** Create or delete a monitor (`kiln monitor`); reading its reports needs `read`. */
  'monitor.manage': 'operator',
  'gate.approve': 'approver',
  'gate.reject': 'approver',
  'alias.move': 'approver',
  deploy: 'approver',
  'principal.manage': 'admin',
  'token.create': 'admin',
  'token.revoke': 'admin',
  /** Retention (`kiln gc`): delete old artifact content and prediction-log rows. */
  gc: 'admin',
  /** Write what the worker records (runs, steps, artifacts, lineage, experiments, registrations). */
  record: 'admin',
} as const satisfies Record<string, RoleName>;
export type Action = keyof typeof actionRoles;

const rank = (role: RoleName) => roleNames.indexOf(role);

export const can = (role: RoleName, action: Action): boolean => rank(role) >= rank(actionRoles[action]);

export const tokenSha256 = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

export interface TokenInput {
  name: string;
  role: RoleName;
  label?: string;
  expiresAt?: Date;
}

// Any constant: the first-admin check and insert run under this transaction-scoped lock.
const BOOTSTRAP_LOCK = 7_463_519_003;

export interface CreatedToken {
  /** The secret: shown once, never stored. */
  token: string;
  tokenId: string;
  principal: Principal;
}

export const accessApi = (db: Executor) => {
  /**
   * The role `principal` holds now, read from the store by id (the role field it carries is not
   * trusted): its token's role when it names one, else the highest role among its live tokens;
   * null when it has none (unknown, disabled, every token revoked or expired).
   */
  async function currentRole(principal: Principal): Promise<RoleName | null> {
    if (principal.id === null) return null;
    const rows = await db
      .select({ role: apiTokens.role })
      .from(apiTokens)
      .innerJoin(principals, eq(principals.id, apiTokens.principalId))
      .where(
        and(
          eq(principals.id, principal.id),
          principal.tokenId === undefined ? undefined : eq(apiTokens.id, principal.tokenId),
          isNull(principals.disabledAt),
          isNull(apiTokens.revokedAt),
          or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, sql`now()`)),
        ),
      );
    return rows.reduce<RoleName | null>(
      (best, r) => (best === null || rank(r.role) > rank(best) ? r.role : best),
      null,
    );
  }

  /** Allows `action` to `principal` or throws AccessDeniedError; a refusal is audited. */
  async function authorize(principal: Principal, action: Action, subject?: string): Promise<void> {
    if (principal === SYSTEM) return;
    const role = await currentRole(principal);
    if (role !== null && can(role, action)) return;
    const required = actionRoles[action];
    // Own transaction: the refusal is on record even though the caller's operation stops here.
    await db.transaction((tx) =>
      appendAuditIn(tx, {
        actor: principal.name,
        action: 'access.denied',
        subject: subject ?? action,
        after: { action, role, required, tokenId: principal.tokenId ?? null },
      }),
    );
    throw new AccessDeniedError(principal.name, role, action, required, subject);
  }

  async function ensurePrincipal(
    tx: Executor,
    name: string,
    kind: 'user' | 'service',
    actor: Principal,
  ): Promise<PrincipalRow> {
    const [created] = await tx
      .insert(principals)
      .values({ name, kind })
      .onConflictDoNothing({ target: principals.name })
      .returning();
    if (created) {
      await appendAuditIn(tx, {
        actor: actor.name,
        action: 'principal.create',
        subject: `principal:${name}`,
        after: { name, kind },
      });
      return created;
    }
    const [existing] = await tx.select().from(principals).where(eq(principals.name, name));
    return existing!;
  }

  async function issueToken(tx: Executor, input: TokenInput, actor: Principal): Promise<CreatedToken> {
    const token = `kiln_${randomBytes(32).toString('base64url')}`;
    const principal = await ensurePrincipal(tx, input.name, 'user', actor);
    const [row] = await tx
      .insert(apiTokens)
      .values({
        principalId: principal.id,
        tokenSha256: tokenSha256(token),
        role: input.role,
        label: input.label ?? null,
        expiresAt: input.expiresAt ?? null,
        createdBy: actor.name,
      })
      .returning();
    await appendAuditIn(tx, {
      actor: actor.name,
      action: 'token.create',
      subject: `principal:${input.name}`,
      after: {
        tokenId: row!.id,
        role: input.role,
        label: input.label ?? null,
        expiresAt: input.expiresAt?.toISOString() ?? null,
      },
    });
    return {
      token,
      tokenId: row!.id,
      principal: { id: principal.id, name: principal.name, role: input.role, tokenId: row!.id },
    };
  }

  return {
    authorize,
    can,

    /** Creates a principal (admin only); creating an existing name returns it unchanged. */
    async createPrincipal(
      actor: Principal,
      name: string,
      options: { kind?: 'user' | 'service' } = {},
    ): Promise<PrincipalRow> {
      await authorize(actor, 'principal.manage', `principal:${name}`);
      return db.transaction((tx) => ensurePrincipal(tx, name, options.kind ?? 'user', actor));
    },

    /**
     * Issues a token for `name` (created if new) with `role`; returns the plaintext once and
     * keeps only its sha256. Audited as `token.create`.
     */
    async createToken(actor: Principal, input: TokenInput): Promise<CreatedToken> {
      if (!roleNames.includes(input.role))
        throw new Error(`unknown role '${input.role}'; roles are ${roleNames.join(', ')}`);
      await authorize(actor, 'token.create', `principal:${input.name}`);
      return db.transaction((tx) => issueToken(tx, input, actor));
    },

    /**
     * Makes `name` the first admin of a store that has no principals yet; undefined when it has
     * some. One transaction under a lock, so two first commands at once make one admin; when
     * `keep` fails, nothing is made.
     */
    async bootstrapAdmin(
      name: string,
      keep: (created: CreatedToken) => Promise<void> = async () => {},
    ): Promise<CreatedToken | undefined> {
      return db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`);
        const [any] = await tx.select({ id: principals.id }).from(principals).limit(1);
        if (any) return undefined;
        const created = await issueToken(tx, { name, role: 'admin', label: 'first admin (bootstrap)' }, SYSTEM);
        // Kept (say, written to a file) before commit: a token nobody holds would lock the store.
        await keep(created);
        return created;
      });
    },

    /** Whether the store has any principal yet: what a caller without a token is told depends on it. */
    async hasPrincipals(): Promise<boolean> {
      const [any] = await db.select({ id: principals.id }).from(principals).limit(1);
      return any !== undefined;
    },

    /** Resolves a token to its principal and role; an unknown, revoked or expired token is refused and audited. */
    async authenticate(token: string): Promise<Principal> {
      const sha = tokenSha256(token);
      const [found] = await db
        .select({ tokenId: apiTokens.id, role: apiTokens.role, id: principals.id, name: principals.name })
        .from(apiTokens)
        .innerJoin(principals, eq(principals.id, apiTokens.principalId))
        .where(
          and(
            eq(apiTokens.tokenSha256, sha),
            isNull(apiTokens.revokedAt),
            isNull(principals.disabledAt),
            or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, sql`now()`)),
          ),
        );
      if (found) return { id: found.id, name: found.name, role: found.role, tokenId: found.tokenId };
      await db.transaction((tx) =>
        appendAuditIn(tx, {
          actor: 'anonymous',
          action: 'auth.refused',
          subject: `token:${sha.slice(0, 12)}`,
          after: { reason: 'unknown, revoked or expired token' },
        }),
      );
      throw new AuthenticationError(
        'the token is not valid (unknown, revoked or expired); create one with `kiln token create --name <you> --role <role>`',
      );
    },

    /**
     * The principal named `name` with the highest role among its live tokens (viewer role). A name
     * the store does not know, or a principal disabled or without a live token, shows no more than
     * viewer; `authorize` reads the role again whatever this says.
     */
    async principalByName(actor: Principal, name: string): Promise<Principal> {
      await authorize(actor, 'read', `principal:${name}`);
      const rows = await db
        .select({ id: principals.id, role: apiTokens.role, disabledAt: principals.disabledAt })
        .from(principals)
        .leftJoin(
          apiTokens,
          and(
            eq(apiTokens.principalId, principals.id),
            isNull(apiTokens.revokedAt),
            or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, sql`now()`)),
          ),
        )
        .where(eq(principals.name, name));
      const live = rows.filter((r) => !r.disabledAt && r.role);
      const role = live.reduce<RoleName>((best, r) => (rank(r.role!) > rank(best) ? r.role! : best), 'viewer');
      return { id: rows[0]?.id ?? null, name, role };
    },

    /** Revokes a token (admin only); audited. */
    async revokeToken(actor: Principal, tokenId: string): Promise<void> {
      await authorize(actor, 'token.revoke', `token:${tokenId}`);
      await db.transaction(async (tx) => {
        const [row] = await tx
          .update(apiTokens)
          .set({ revokedAt: sql`coalesce(${apiTokens.revokedAt}, now())` })
          .where(eq(apiTokens.id, tokenId))
          .returning();
        if (!row) throw new NotFoundError('token', tokenId);
        await appendAuditIn(tx, { actor: actor.name, action: 'token.revoke', subject: `token:${tokenId}` });
      });
    },

    /** Every principal with its tokens (admin only). */
    async listPrincipals(actor: Principal): Promise<
      Array<
        PrincipalRow & {
          tokens: Array<{
            id: string;
            role: RoleName;
            label: string | null;
            createdAt: Date;
            revokedAt: Date | null;
            expiresAt: Date | null;
          }>;
        }
      >
    > {
      await authorize(actor, 'principal.manage', 'principals');
      const people = await db.select().from(principals).orderBy(asc(principals.name));
      const tokens = await db.select().from(apiTokens).orderBy(asc(apiTokens.createdAt));
      return people.map((p) => ({
        ...p,
        tokens: tokens
          .filter((t) => t.principalId === p.id)
          .map((t) => ({
            id: t.id,
            role: t.role,
            label: t.label,
            createdAt: t.createdAt,
            revokedAt: t.revokedAt,
            expiresAt: t.expiresAt,
          })),
      }));
    },
  };
};
export type AccessApi = ReturnType<typeof accessApi>;
