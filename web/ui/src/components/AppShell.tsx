import type { ReactNode } from 'react';
import type { Session } from '../api/types';
import logoUrl from '../favicon.svg';
import { Link } from '../router/Link';
import { paths } from '../router/paths';
import { AppNav } from './AppNav';
import { ThemeToggle } from './ThemeToggle';
import { UserMenu } from './UserMenu';

interface AppShellProps {
  session: Session;
  currentPattern: string | null;
  onSignOut: () => Promise<void>;
  children: ReactNode;
}

export function AppShell({ session, currentPattern, onSignOut, children }: AppShellProps) {
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <Link to={paths.dashboard()} className="brand">
          <img src={logoUrl} alt="" width={28} height={28} />
          <span>Flowpilot</span>
        </Link>
        <div className="app-header-actions">
          <ThemeToggle />
          <UserMenu session={session} onSignOut={onSignOut} />
        </div>
      </header>
      <AppNav currentPattern={currentPattern} />
      <main id="main" className="app-main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
