import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { api, ApiError, UNAUTHORIZED_EVENT } from './api';
import type { OrganizationPage, SessionView } from './types';

export interface SessionState {
  session: SessionView;
  organizations: OrganizationPage['data'];
  /** Makes the session act in another of the user's organizations. */
  switchOrganization(organizationId: string): Promise<void>;
  signOut(): Promise<void>;
}

const SessionContext = createContext<SessionState | null>(null);

/** The signed-in session; only pages inside {@link SessionProvider}'s signed-in branch use it. */
export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error('useSession outside a signed-in page');
  return state;
}

type Phase = { kind: 'loading' } | { kind: 'signed-out' } | { kind: 'signed-in'; session: SessionView; organizations: OrganizationPage['data'] } | { kind: 'failed'; error: unknown };

async function loadSession(): Promise<Phase> {
  try {
    const session = await api<SessionView>('/api/auth/session');
    const organizations = await api<OrganizationPage>('/api/organizations?limit=200');
    return { kind: 'signed-in', session, organizations: organizations.data };
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return { kind: 'signed-out' };
    return { kind: 'failed', error };
  }
}

/**
 * Reads who is signed in (the HttpOnly session cookie: scripts never see the token) and renders
 * `signedIn` with that session, or `signedOut(onSignedIn)` — the sign-in page — when there is
 * none. Any 401 from the API later (the session expired or was revoked) goes back to sign-in.
 */
export function SessionProvider(props: { signedIn: ReactNode; signedOut: (onSignedIn: () => void) => ReactNode; failed: (error: unknown) => ReactNode }) {
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });
  const refresh = useCallback(() => {
    void loadSession().then(setPhase);
  }, []);
  useEffect(() => {
    refresh();
    const signedOut = () => setPhase({ kind: 'signed-out' });
    window.addEventListener(UNAUTHORIZED_EVENT, signedOut);
    return () => window.removeEventListener(UNAUTHORIZED_EVENT, signedOut);
  }, [refresh]);
  const switchOrganization = useCallback(async (organizationId: string) => {
    await api('/api/auth/active-organization', { method: 'POST', body: { organizationId } });
    setPhase(await loadSession());
  }, []);
  const signOut = useCallback(async () => {
    await api('/api/auth/sign-out', { method: 'POST' });
    setPhase({ kind: 'signed-out' });
  }, []);
  switch (phase.kind) {
    case 'loading':
      return (
        <p className="muted" role="status">
          Loading…
        </p>
      );
    case 'signed-out':
      return <>{props.signedOut(refresh)}</>;
    case 'failed':
      return <>{props.failed(phase.error)}</>;
    case 'signed-in':
      return (
        <SessionContext.Provider value={{ session: phase.session, organizations: phase.organizations, switchOrganization, signOut }}>
          {props.signedIn}
        </SessionContext.Provider>
      );
  }
}
