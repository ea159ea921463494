import type { ReactNode } from 'react';
import { RequestError } from '../api-client';

/** An error from the server, said plainly; a refusal (403) says which role is missing. */
export function ErrorNote({ error }: { error: Error }) {
  if (error instanceof RequestError && error.status === 403)
    return (
      <div className="note refused" role="alert">
        <strong>Not allowed.</strong> {error.message}
      </div>
    );
  return (
    <div className="note error" role="alert">
      <strong>{error instanceof RequestError ? `Error ${error.status}.` : 'Error.'}</strong> {error.message}
    </div>
  );
}

/** Renders `children(data)` once loaded; the error, or a quiet loading line, before. */
export function Loaded<T>({
  data,
  error,
  children,
}: {
  data: T | undefined;
  error: Error | undefined;
  children: (data: T) => ReactNode;
}) {
  if (error) return <ErrorNote error={error} />;
  if (data === undefined) return <p className="muted">Loading…</p>;
  return <>{children(data)}</>;
}

/** A line that says there is nothing yet, instead of an empty table. */
export function Empty({ children }: { children: ReactNode }) {
  return <p className="muted empty">{children}</p>;
}
