import { randomBytes } from 'node:crypto';
import type {} from '@fastify/cookie';
import type {} from '@fastify/csrf-protection';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { roleNames, type RoleName } from '../../store/schema/access';
import type { Principal, Store } from '../../store';
import type { SessionResponse, SignInRequest } from '../api';

const SESSION_COOKIE = 'kiln_session';
const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in principal; set for every /api route but sign-in. */
    principal: Principal;
    sessionId: string;
  }
}

interface Session {
  principal: Principal;
  expiresAt: number;
}

/**
 * Server-side sessions: the browser holds only a random id in an httpOnly, SameSite=Strict
 * cookie; the token it signed in with is never kept. The store checks the principal's role
 * again on every action, so a revoked token stops working at its next request.
 */
export class Sessions {
  private readonly sessions = new Map<string, Session>();

  open(principal: Principal, now = Date.now()): string {
    // Sessions nobody comes back to would otherwise stay in memory: each sign-in sweeps the expired.
    for (const [id, session] of this.sessions) if (session.expiresAt <= now) this.sessions.delete(id);
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(id, { principal, expiresAt: now + SESSION_TTL_MS });
    return id;
  }

  find(id: string | undefined, now = Date.now()): Principal | undefined {
    const session = id === undefined ? undefined : this.sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= now) {
      this.sessions.delete(id!);
      return undefined;
    }
    return session.principal;
  }

  close(id: string): void {
    this.sessions.delete(id);
  }

  /** How many sessions are held, expired ones not yet swept included. */
  get size(): number {
    return this.sessions.size;
  }
}

/** The role held and every role below it, lowest first. */
const rolesOf = (role: RoleName) => roleNames.slice(0, roleNames.indexOf(role) + 1);

const cookieOptions = (secure: boolean) => ({ path: '/', httpOnly: true, sameSite: 'strict', secure }) as const;

/**
 * Sign-in, sign-out and the guard of every other /api route: a session is required (401), and a
 * write (POST, PUT, PATCH, DELETE) must carry the session's CSRF token in `x-csrf-token` (403).
 */
export function sessionRoutes(app: FastifyInstance, store: Store, options: { secureCookies: boolean }) {
  const sessions = new Sessions();
  const respond = (reply: FastifyReply, principal: Principal, sessionId: string): SessionResponse => ({
    principal: { name: principal.name, roles: rolesOf(principal.role) },
    csrfToken: reply.generateCsrf({ userInfo: sessionId }),
  });

  app.addHook('onRequest', (request, reply, done) => {
    const path = request.url.split('?')[0]!;
    if (!path.startsWith('/api/') || (path === '/api/session' && request.method === 'POST')) return done();
    const sessionId = request.cookies[SESSION_COOKIE];
    const principal = sessions.find(sessionId);
    if (!principal) {
      reply.code(401).send({ error: `${request.method} ${path}: not signed in; POST /api/session with a Kiln token` });
      return;
    }
    request.principal = principal;
    request.sessionId = sessionId!;
    if (request.method === 'GET' || request.method === 'HEAD') return done();
    app.csrfProtection(request, reply, done);
  });

  app.post<{ Body: SignInRequest }>(
    '/api/session',
    {
      schema: {
        body: {
          type: 'object',
          required: ['token'],
          additionalProperties: false,
          properties: { token: { type: 'string', minLength: 1, maxLength: 512 } },
        },
      },
    },
    async (request, reply) => {
      const principal = await store.access.authenticate(request.body.token.trim());
      const previous = request.cookies[SESSION_COOKIE];
      if (previous) sessions.close(previous);
      const sessionId = sessions.open(principal);
      reply.setCookie(SESSION_COOKIE, sessionId, cookieOptions(options.secureCookies));
      return respond(reply, principal, sessionId);
    },
  );

  app.get('/api/session', async (request: FastifyRequest, reply) =>
    respond(reply, request.principal, request.sessionId),
  );

  app.delete('/api/session', async (request, reply) => {
    sessions.close(request.sessionId);
    reply.clearCookie(SESSION_COOKIE, cookieOptions(options.secureCookies));
    return { signedOut: true };
  });
}
