import { useEffect, useRef, type ReactNode } from 'react';
import { useSession } from './auth/session';
import { AppShell } from './components/AppShell';
import { LoadingState } from './components/LoadingState';
import { ProblemAlert } from './components/ProblemAlert';
import { ApprovalsPage } from './pages/ApprovalsPage';
import { ConnectionsPage } from './pages/ConnectionsPage';
import { DashboardPage } from './pages/DashboardPage';
import { LoginPage, safeNext } from './pages/LoginPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { RunDetailPage } from './pages/RunDetailPage';
import { RunsPage } from './pages/RunsPage';
import { WizardPage } from './pages/WizardPage';
import { WorkflowDetailPage } from './pages/WorkflowDetailPage';
import { WorkflowsPage } from './pages/WorkflowsPage';
import { matchRoute, navigate, useLocation, type RouteMatch } from './router/router';
import { paths } from './router/paths';

function renderPage(match: RouteMatch | null): ReactNode {
  const id = match?.params.id ?? '';
  switch (match?.pattern) {
    case '/dashboard':
      return <DashboardPage />;
    case '/wizard':
      return <WizardPage />;
    case '/workflows':
      return <WorkflowsPage />;
    case '/workflows/{id}':
      return <WorkflowDetailPage key={id} id={id} />;
    case '/runs':
      return <RunsPage />;
    case '/runs/{id}':
      return <RunDetailPage key={id} id={id} />;
    case '/approvals':
      return <ApprovalsPage />;
    case '/connections':
      return <ConnectionsPage />;
    default:
      return <NotFoundPage />;
  }
}

const TITLES: Record<string, string> = {
  '/login': 'Sign in',
  '/dashboard': 'Dashboard',
  '/wizard': 'Wizard',
  '/workflows': 'Workflows',
  '/workflows/{id}': 'Workflow',
  '/runs': 'Runs',
  '/runs/{id}': 'Run',
  '/approvals': 'Approvals',
  '/connections': 'Connections',
};

export function App() {
  const { state, signOut, retry } = useSession();
  const location = useLocation();
  const match = matchRoute(location.pathname);
  const pattern = match?.pattern ?? null;
  const firstRender = useRef(true);

  const signedIn = state.status === 'signed-in';
  const signedOut = state.status === 'signed-out';
  // After signing out on purpose there is no page to come back to.
  const keepPlace = state.status === 'signed-out' && state.reason !== 'signed-out';

  useEffect(() => {
    if (signedOut && pattern !== '/login') {
      navigate(paths.login(keepPlace && location.href !== '/' ? location.href : undefined), { replace: true });
    } else if (signedIn && pattern === '/login') {
      navigate(safeNext(location.search.get('next')), { replace: true });
    } else if (signedIn && pattern === '/') {
      navigate(paths.dashboard(), { replace: true });
    }
  }, [signedIn, signedOut, keepPlace, pattern, location.href, location.search]);

  useEffect(() => {
    document.title = pattern && TITLES[pattern] ? `${TITLES[pattern]} · Flowpilot` : 'Flowpilot';
    // Moving focus to the new page tells keyboard and screen-reader users the page changed.
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    document.getElementById('main')?.focus({ preventScroll: false });
  }, [location.pathname, pattern]);

  if (state.status === 'loading') {
    return (
      <div className="center-page">
        <LoadingState label="Opening Flowpilot…" />
      </div>
    );
  }
  if (state.status === 'error') {
    return (
      <main className="center-page">
        <ProblemAlert error={state.error} action="Could not reach Flowpilot" onRetry={retry} />
      </main>
    );
  }
  if (state.status === 'signed-out') {
    return pattern === '/login' ? <LoginPage expired={state.reason === 'expired'} /> : null;
  }
  if (pattern === '/login' || pattern === '/') return null;
  return (
    <AppShell session={state.session} currentPattern={pattern} onSignOut={signOut}>
      {renderPage(match)}
    </AppShell>
  );
}
