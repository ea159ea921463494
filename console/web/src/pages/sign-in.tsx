import { useState, type FormEvent } from 'react';
import type { SessionResponse, SignInRequest } from '../../../api';
import { api } from '../api-client';
import { ErrorNote } from '../components/status';

/** Sign-in with a Kiln token (`kiln token create`, or `.kiln/token` for the first admin). */
export function SignIn({ onSignedIn }: { onSignedIn: (session: SessionResponse) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await api.post<SessionResponse>('/session', { token: token.trim() } satisfies SignInRequest));
    } catch (e) {
      setError(e as Error);
      setBusy(false);
    }
  };

  return (
    <form className="sign-in" onSubmit={submit}>
      <h1>Kiln</h1>
      <p className="muted">
        Sign in with a Kiln token: <code>kiln token create --name NAME --role ROLE</code>, or the first admin&apos;s in{' '}
        <code>.kiln/token</code>.
      </p>
      <label>
        Token
        <input
          name="token"
          type="password"
          autoComplete="off"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          autoFocus
        />
      </label>
      <button type="submit" disabled={busy || token.trim() === ''}>
        Sign in
      </button>
      {error && <ErrorNote error={error} />}
    </form>
  );
}
