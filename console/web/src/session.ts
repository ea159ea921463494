import { createContext, useContext } from 'react';
import type { Role, SessionResponse } from '../../api';

export const SessionContext = createContext<SessionResponse | undefined>(undefined);

/** The signed-in session; the app renders pages only inside one. */
function useSession(): SessionResponse {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in session');
  return session;
}

/**
 * Whether the principal holds `role`; used only to hide buttons that would be refused, since the
 * server checks every action itself.
 */
export function useHasRole(role: Role): boolean {
  return useSession().principal.roles.includes(role);
}
