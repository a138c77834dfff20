// Who is signed in, for the whole app. The server decides: the session probe at start, sign-in,
// and any 401 later (the session ended elsewhere) all land here.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { ApiError, onUnauthorized, setCsrfToken } from '../api/client';
import { sessionApi } from '../api/endpoints';
import type { Session } from '../api/types';

export type SessionState =
  | { status: 'loading' }
  | { status: 'signed-out'; reason: 'start' | 'expired' | 'signed-out' }
  | { status: 'signed-in'; session: Session }
  | { status: 'error'; error: ApiError };

interface SessionContextValue {
  state: SessionState;
  signIn: (email: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
  retry: () => void;
}

const SessionContext = createContext<SessionContextValue | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);

  const adopt = useCallback((session: Session) => {
    setCsrfToken(session.csrf_token ?? null);
    setState({ status: 'signed-in', session });
  }, []);

  useEffect(() => {
    let live = true;
    sessionApi
      .current()
      .then((session) => {
        if (!live) return;
        if (session.signed_in === false) setState({ status: 'signed-out', reason: 'start' });
        else adopt(session);
      })
      .catch((err: unknown) => {
        if (!live) return;
        if (err instanceof ApiError && err.status === 401) setState({ status: 'signed-out', reason: 'start' });
        else if (err instanceof ApiError) setState({ status: 'error', error: err });
        else throw err;
      });
    return () => {
      live = false;
    };
  }, [adopt, attempt]);

  useEffect(
    () =>
      onUnauthorized(() => {
        setCsrfToken(null);
        setState((prev) => (prev.status === 'signed-in' ? { status: 'signed-out', reason: 'expired' } : prev));
      }),
    [],
  );

  const signIn = useCallback(
    async (email: string, password: string) => {
      adopt(await sessionApi.login(email, password));
    },
    [adopt],
  );

  const signOut = useCallback(async () => {
    try {
      await sessionApi.logout();
    } finally {
      setCsrfToken(null);
      setState({ status: 'signed-out', reason: 'signed-out' });
    }
  }, []);

  const retry = useCallback(() => {
    setState({ status: 'loading' });
    setAttempt((n) => n + 1);
  }, []);

  const value = useMemo(() => ({ state, signIn, signOut, retry }), [state, signIn, signOut, retry]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

/** Whether the signed-in user holds `permission` (admins hold all). */
export function usePermission(permission: string): boolean {
  const { state } = useSession();
  if (state.status !== 'signed-in') return false;
  const granted = state.session.permissions;
  return granted.includes(permission) || granted.includes('admin');
}
