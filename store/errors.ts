import type { RoleName } from './schema/access';

export class AccessDeniedError extends Error {
  constructor(
    readonly who: string,
    /** The role the principal holds now; null when it has none (unknown, disabled, no live token). */
    readonly role: RoleName | null,
    readonly action: string,
    readonly required: RoleName,
    readonly subject?: string,
  ) {
    super(
      `${who} (${role === null ? 'no live token' : `role ${role}`}) may not ${action}${subject ? ` on ${subject}` : ''}: it needs the ${required} role; ask an admin for a token with that role`,
    );
    this.name = 'AccessDeniedError';
  }
}

export class AuthenticationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthenticationError';
  }
}

export class NotFoundError extends Error {
  constructor(
    readonly what: string,
    readonly key: string,
    hint?: string,
  ) {
    super(`${what} '${key}' is not in the store${hint ? `; ${hint}` : ''}`);
    this.name = 'NotFoundError';
  }
}

/** A write that contradicts what is already recorded under the same natural key. */
export class ConflictError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConflictError';
  }
}
