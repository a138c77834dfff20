import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import type { WorkflowInput } from '../api/types';
import type { Connection } from '../api/connections';
import { initialValue, parseWizardValues, type FieldValue } from '../lib/wizardForm';
import { WizardSettingsForm } from './WizardSettingsForm';

// The inputs of workflows/cpa-guardrail.yaml as GET /api/v1/workflows/cpa-guardrail gives them.
const cpaInputs: WorkflowInput[] = [
  { name: 'meta_connection', type: 'string', required: false, description: 'Meta Ads connection', default: 'meta-main', connection: 'meta_ads' },
  { name: 'meta_account', type: 'string', required: false, description: 'Meta ad account to watch', default: 'act_1001' },
  { name: 'target_cpa', type: 'number', required: false, description: 'Highest acceptable cost per acquisition', default: 40, unit: 'account currency' },
  { name: 'days', type: 'integer', required: false, description: 'Days in a row the CPA must stay above the target', default: 3, unit: 'days' },
  { name: 'slack_connection', type: 'string', required: false, description: 'Slack workspace for the approval request', default: 'slack-main', connection: 'slack' },
  { name: 'approval_timeout', type: 'string', required: false, description: 'How long to wait for a decision before giving up', default: '24h' },
];

function connection(name: string, type: string): Connection {
  return {
    name, type, fields: {}, secret_fields_set: [], rate_limit: { per_second: 1, burst: 1 },
    rate_limit_default: true, key_id: 'k1', created_at: 0, updated_at: 0,
  };
}

function Harness({ inputs, connections, problem }: { inputs: WorkflowInput[]; connections: Connection[] | undefined; problem?: string }) {
  const [values, setValues] = useState<Record<string, FieldValue>>(() => Object.fromEntries(inputs.map((i) => [i.name, initialValue(i)])));
  const parsed = parseWizardValues(inputs, values);
  return (
    <>
      <WizardSettingsForm
        inputs={inputs}
        values={values}
        errors={parsed.errors}
        onChange={(name, value) => setValues((v) => ({ ...v, [name]: value }))}
        connections={connections}
        connectionsProblem={problem}
        name="My CPA guardrail"
        id="my-cpa-guardrail"
        onNameChange={() => undefined}
        onIdChange={() => undefined}
      />
      <output data-testid="values">{JSON.stringify(parsed.values)}</output>
    </>
  );
}

const optionNames = (select: HTMLElement) => within(select).getAllByRole('option').map((o) => o.textContent);

describe('WizardSettingsForm', () => {
  it('renders each connection input as a dropdown of the connections of its type', () => {
    render(
      <Harness
        inputs={cpaInputs}
        connections={[connection('meta-main', 'meta_ads'), connection('meta-eu', 'meta_ads'), connection('slack-main', 'slack'), connection('google-main', 'google_ads')]}
      />,
    );
    const meta = screen.getByRole('combobox', { name: 'Meta Ads connection' }) as HTMLSelectElement;
    expect(optionNames(meta)).toEqual(['meta-main', 'meta-eu']);
    expect(meta.value).toBe('meta-main');
    const slack = screen.getByRole('combobox', { name: 'Slack workspace for the approval request' }) as HTMLSelectElement;
    expect(optionNames(slack)).toEqual(['slack-main']);
    // The other inputs are not dropdowns.
    expect(screen.getAllByRole('combobox')).toHaveLength(2);
    expect(screen.getByRole('group', { name: 'Connections' })).toBeTruthy();
  });

  it('passes the chosen connection on', async () => {
    render(<Harness inputs={cpaInputs} connections={[connection('meta-main', 'meta_ads'), connection('meta-eu', 'meta_ads'), connection('slack-main', 'slack')]} />);
    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Meta Ads connection' }), 'meta-eu');
    expect(JSON.parse(screen.getByTestId('values').textContent ?? '{}')).toMatchObject({ meta_connection: 'meta-eu', slack_connection: 'slack-main' });
  });

  it('says when there is no connection of a type and links to the Connections page', () => {
    render(<Harness inputs={cpaInputs} connections={[connection('meta-main', 'meta_ads')]} />);
    const slack = screen.getByRole('combobox', { name: 'Slack workspace for the approval request' });
    expect(slack.getAttribute('aria-invalid')).toBe('true');
    const hint = document.getElementById(slack.getAttribute('aria-describedby')?.split(' ')[0] ?? '');
    expect(hint?.textContent).toContain('There is no Slack connection yet');
    expect(within(hint as HTMLElement).getByRole('link', { name: /Connections page/ }).getAttribute('href')).toBe('/connections');
  });

  it('falls back to a text field when the connections cannot be listed', () => {
    render(<Harness inputs={cpaInputs} connections={[]} problem="You may not list connections." />);
    const meta = screen.getByRole('textbox', { name: 'Meta Ads connection' }) as HTMLInputElement;
    expect(meta.value).toBe('meta-main');
    expect(screen.queryAllByRole('combobox')).toHaveLength(0);
  });

  it('shows thresholds as numbers with their unit, and checks them', async () => {
    render(<Harness inputs={cpaInputs} connections={[connection('meta-main', 'meta_ads'), connection('slack-main', 'slack')]} />);
    const cpa = screen.getByRole('spinbutton', { name: 'Highest acceptable cost per acquisition' }) as HTMLInputElement;
    expect(cpa.value).toBe('40');
    expect(cpa.getAttribute('aria-describedby')).toContain('wizard-input-target_cpa-unit');
    expect(screen.getByText('account currency')).toBeTruthy();
    const days = screen.getByRole('spinbutton', { name: 'Days in a row the CPA must stay above the target' });
    await userEvent.clear(days);
    await userEvent.type(days, '2.5');
    expect(screen.getByText('Enter a whole number.')).toBeTruthy();
    await userEvent.clear(cpa);
    await userEvent.type(cpa, '35.5');
    expect(JSON.parse(screen.getByTestId('values').textContent ?? '{}')).toMatchObject({ target_cpa: 35.5 });
  });

  it('has a Slack channel field where the template has one', async () => {
    const inputs: WorkflowInput[] = [
      { name: 'slack_connection', type: 'string', required: false, description: 'Slack workspace to post in', default: 'slack-main', connection: 'slack' },
      { name: 'channel', type: 'string', required: false, description: 'Slack channel for the report', default: '#marketing-reports' },
    ];
    render(<Harness inputs={inputs} connections={[connection('slack-main', 'slack')]} />);
    const channel = screen.getByRole('textbox', { name: 'Slack channel for the report' });
    await userEvent.clear(channel);
    await userEvent.type(channel, 'growth team');
    expect(screen.getByText(/Slack channels are lowercase/)).toBeTruthy();
    await userEvent.clear(channel);
    await userEvent.type(channel, 'growth');
    expect(screen.getByText('Start the channel with #, e.g. #growth.')).toBeTruthy();
    await userEvent.type(channel, '{Home}#');
    expect(JSON.parse(screen.getByTestId('values').textContent ?? '{}')).toMatchObject({ channel: '#growth' });
  });
});
