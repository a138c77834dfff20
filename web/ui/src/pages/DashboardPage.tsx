import { PlaceholderPage } from '../components/PlaceholderPage';

export function DashboardPage() {
  return <PlaceholderPage title="Dashboard" what="KPIs of your campaigns and the health of your workflows will show here." />;
}
