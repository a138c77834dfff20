import { usePermission } from '../auth/session';
import { usePendingApprovalsCount } from '../lib/approvalsCount';
import { Link } from '../router/Link';
import { paths } from '../router/paths';

interface NavItem {
  label: string;
  to: string;
  /** The route patterns that count as this section. */
  section: string[];
}

const ITEMS: NavItem[] = [
  { label: 'Dashboard', to: paths.dashboard(), section: ['/dashboard'] },
  { label: 'Wizard', to: paths.wizard(), section: ['/wizard'] },
  { label: 'Workflows', to: paths.workflows(), section: ['/workflows', '/workflows/{id}'] },
  { label: 'Runs', to: paths.runs(), section: ['/runs', '/runs/{id}'] },
  { label: 'Approvals', to: paths.approvals(), section: ['/approvals'] },
  { label: 'Connections', to: paths.connections(), section: ['/connections'] },
];

export function AppNav({ currentPattern }: { currentPattern: string | null }) {
  const canReadRuns = usePermission('runs:read');
  const pending = usePendingApprovalsCount(canReadRuns);

  return (
    <nav className="app-nav" aria-label="Main">
      <ul>
        {ITEMS.map((item) => {
          const current = currentPattern !== null && item.section.includes(currentPattern);
          const badge = item.label === 'Approvals' && pending ? pending : null;
          return (
            <li key={item.to}>
              <Link to={item.to} className="nav-link" aria-current={current ? 'page' : undefined}>
                <span>{item.label}</span>
                {badge !== null && (
                  <span className="badge" aria-label={`${badge} pending`}>
                    {badge}
                  </span>
                )}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
