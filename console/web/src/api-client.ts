import type { ApiError } from '../../api';

// The console's one way to the server: JSON over /api, the session cookie sent by the browser,
// and the CSRF token the server handed out at sign-in on every write.

/** A refused or failed request, with the server's message (`{ error }`) and the HTTP status. */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

let csrfToken: string | undefined;
const signedOutListeners = new Set<() => void>();

/** Remembers the CSRF token of the current session (undefined when signed out). */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** Calls `listener` when the server says the session is gone (401), so the app shows sign-in. */
export function onSignedOut(listener: () => void): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const response = await fetch(`/api${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    ...(signal ? { signal } : {}),
  });
  const text = await response.text();
  const parsed: unknown = text ? parseJson(text) : undefined;
  if (!response.ok) {
    const message =
      typeof (parsed as ApiError | undefined)?.error === 'string'
        ? (parsed as ApiError).error
        : `${method} /api${path} answered ${response.status} ${response.statusText}`;
    // Signing in with a bad token is a 401 too, but that is the form's error to show.
    if (response.status === 401 && path !== '/session') for (const listener of signedOutListeners) listener();
    throw new RequestError(response.status, message, path);
  }
  return parsed as T;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { error: text.slice(0, 500) };
  }
}

export const api = {
  get: <T>(path: string, signal?: AbortSignal) => request<T>('GET', path, undefined, signal),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {}),
  delete: <T>(path: string) => request<T>('DELETE', path),
};

/** A query string from the defined, non-empty values of `params`, with its `?`, or ''. */
export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}
