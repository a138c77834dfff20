import { PlaceholderPage } from '../components/PlaceholderPage';

export function WizardPage() {
  return <PlaceholderPage title="Wizard" what="Pick a template, fill a form and activate a workflow without writing YAML." />;
}
