import { PlaceholderPage } from '../components/PlaceholderPage';

export function ConnectionsPage() {
  return <PlaceholderPage title="Connections" what="The ad platforms, CRMs and chat tools your workflows use will be managed here." />;
}
