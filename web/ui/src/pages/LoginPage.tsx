import { useSession } from '../auth/session';
import { LoginForm } from '../components/LoginForm';
import { ThemeToggle } from '../components/ThemeToggle';
import { matchRoute, navigate, useLocation } from '../router/router';
import { paths } from '../router/paths';
import logoUrl from '../favicon.svg';

/** Where to go after signing in: only a page of this app, never another site. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//')) return paths.dashboard();
  const pathname = next.split('?')[0] ?? '';
  if (!matchRoute(pathname) || pathname === '/login') return paths.dashboard();
  return next;
}

export function LoginPage({ expired }: { expired: boolean }) {
  const { signIn } = useSession();
  const { search } = useLocation();
  const next = safeNext(search.get('next'));

  return (
    <div className="login-page">
      <main className="login-card" aria-labelledby="login-title">
        <div className="login-brand">
          <img src={logoUrl} alt="" width={36} height={36} />
          <span>Flowpilot</span>
        </div>
        <h1 id="login-title">Sign in</h1>
        <LoginForm
          notice={expired ? 'Your session ended. Sign in again to continue.' : undefined}
          onSubmit={async (email, password) => {
            await signIn(email, password);
            navigate(next, { replace: true });
          }}
        />
      </main>
      <div className="login-theme">
        <ThemeToggle />
      </div>
    </div>
  );
}
