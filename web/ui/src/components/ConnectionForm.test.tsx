import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/client';
import type { Connection } from '../api/connections';
import { allTypes, metaMain } from '../lib/connectionFixtures';
import { ConnectionForm } from './ConnectionForm';

function setup(existing?: Connection, onSubmit = vi.fn().mockResolvedValue(undefined)) {
  render(<ConnectionForm types={allTypes} existing={existing} onSubmit={onSubmit} onCancel={vi.fn()} />);
  return onSubmit;
}

const invalid = (message: string) =>
  new ApiError({
    type: 'about:blank',
    title: 'Invalid connection',
    status: 422,
    detail: `invalid connection: ${message}`,
    errors: [
      { path: 'fields.access_token', message: 'contains a control character (newline, tab, ...)' },
      { path: 'fields.base_url', message: 'the value is not an http(s) URL with a host' },
      { path: 'fields.nope', message: 'unknown field for meta_ads connections' },
    ],
  });

describe('ConnectionForm, adding', () => {
  it('builds the fields from the chosen type: labels, descriptions, required marks, secrets as password inputs', async () => {
    setup();
    expect(screen.queryByLabelText(/Access token/)).toBeNull();
    await userEvent.selectOptions(screen.getByLabelText(/^Type/), 'Meta Ads');
    const token = screen.getByLabelText(/Access token/) as HTMLInputElement;
    expect(token.type).toBe('password');
    expect(token.required).toBe(true);
    expect(token.autocomplete).toBe('new-password');
    expect(screen.getByText('Access token').parentElement?.textContent).toContain('(required)');
    const account = screen.getByLabelText('Ad account') as HTMLInputElement;
    expect(account.type).toBe('text');
    expect(account.required).toBe(false);
    expect(account.getAttribute('aria-describedby')).toContain('connection-field-account_id-hint');
    expect(screen.getByText(/Default ad account, e.g. act_1001/)).toBeTruthy();
    expect((screen.getByLabelText('App secret') as HTMLInputElement).type).toBe('password');
    expect(screen.getByText(/Default: https:\/\/graph.facebook.com/)).toBeTruthy();
    // Nothing to clear on a new connection.
    expect(screen.queryByRole('checkbox')).toBeNull();
  });

  it('sends name, type and only the fields that were filled in', async () => {
    const onSubmit = setup();
    await userEvent.selectOptions(screen.getByLabelText(/^Type/), 'Slack');
    await userEvent.type(screen.getByLabelText(/^Name/), 'slack-ops');
    await userEvent.type(screen.getByLabelText('Bot token'), 'xoxb-123');
    await userEvent.type(screen.getByLabelText('Default channel'), '#ops');
    await userEvent.click(screen.getByRole('button', { name: 'Create connection' }));
    expect(onSubmit).toHaveBeenCalledWith({ name: 'slack-ops', type: 'slack', fields: { bot_token: 'xoxb-123', channel: '#ops' } });
  });

  it('checks before sending and marks each field', async () => {
    const onSubmit = setup();
    await userEvent.selectOptions(screen.getByLabelText(/^Type/), 'Slack');
    await userEvent.click(screen.getByRole('button', { name: 'Create connection' }));
    expect(onSubmit).not.toHaveBeenCalled();
    const name = screen.getByLabelText(/^Name/);
    expect(name.getAttribute('aria-invalid')).toBe('true');
    await waitFor(() => expect(document.activeElement).toBe(name));
    const webhook = screen.getByLabelText('Incoming webhook URL');
    expect(webhook.getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById(webhook.getAttribute('aria-describedby')!.split(' ').pop()!)?.textContent).toBe(
      'Set Incoming webhook URL or Bot token.',
    );
  });

  it('shows the server’s errors beside the fields they name, the rest in an alert', async () => {
    const onSubmit = setup(undefined, vi.fn().mockRejectedValue(invalid('x')));
    await userEvent.selectOptions(screen.getByLabelText(/^Type/), 'Meta Ads');
    await userEvent.type(screen.getByLabelText(/^Name/), 'meta-2');
    await userEvent.type(screen.getByLabelText(/Access token/), 'tok');
    await userEvent.click(screen.getByRole('button', { name: 'Create connection' }));
    expect(onSubmit).toHaveBeenCalled();
    const token = await screen.findByLabelText(/Access token/);
    expect(token.getAttribute('aria-invalid')).toBe('true');
    expect(document.getElementById('connection-field-access_token-error')?.textContent).toBe(
      'contains a control character (newline, tab, ...)',
    );
    expect(document.getElementById('connection-field-base_url-error')?.textContent).toBe('the value is not an http(s) URL with a host');
    expect(screen.getByLabelText('Ad account').getAttribute('aria-invalid')).toBeNull();
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('unknown field for meta_ads connections');
    expect(alert.textContent).not.toContain('control character');
    await waitFor(() => expect(document.activeElement).toBe(token));
  });

  it('puts a name that is taken at the name field', async () => {
    const conflict = new ApiError({
      type: 'about:blank',
      title: 'Conflict',
      status: 409,
      detail: 'connection `slack-main` already exists; update or remove it',
    });
    setup(undefined, vi.fn().mockRejectedValue(conflict));
    await userEvent.selectOptions(screen.getByLabelText(/^Type/), 'Slack');
    await userEvent.type(screen.getByLabelText(/^Name/), 'slack-main');
    await userEvent.type(screen.getByLabelText('Bot token'), 'x');
    await userEvent.click(screen.getByRole('button', { name: 'Create connection' }));
    expect((await screen.findByText(/already exists/)).id).toBe('connection-name-error');
  });
});

describe('ConnectionForm, editing', () => {
  it('never fills a secret, says it is set, and keeps it when left empty', async () => {
    const onSubmit = setup(metaMain);
    expect(screen.queryByLabelText(/^Name/)).toBeNull();
    expect(screen.queryByLabelText(/^Type/)).toBeNull();
    const token = screen.getByLabelText(/^Access token/) as HTMLInputElement;
    expect(token.value).toBe('');
    expect(token.required).toBe(false);
    expect(document.getElementById('connection-field-access_token-hint')?.textContent).toContain('Set — leave empty to keep.');
    expect((screen.getByLabelText('Ad account') as HTMLInputElement).value).toBe('act_1001');
    await userEvent.clear(screen.getByLabelText('Ad account'));
    await userEvent.type(screen.getByLabelText('Ad account'), 'act_2002');
    await userEvent.click(screen.getByRole('button', { name: 'Save changes' }));
    expect(onSubmit).toHaveBeenCalledWith({ fields: { account_id: 'act_2002' } });
  });

  it('sends a new secret as typed, a cleared one as null, an emptied field as null', async () => {
    const onSubmit = setup(metaMain);
    await userEvent.type(screen.getByLabelText(/^Access token/), 'new-token');
    await userEvent.click(screen.getByRole('checkbox', { name: 'Clear App secret' }));
    expect((screen.getByLabelText(/^App secret/) as HTMLInputElement).disabled).toBe(true);
    await userEvent.clear(screen.getByLabelText(/^Base URL/));
    await userEvent.click(screen.getByRole('button', { name: 'Save changes' }));
    expect(onSubmit).toHaveBeenCalledWith({ fields: { access_token: 'new-token', base_url: null, app_secret: null } });
  });

  it('will not clear a required secret without a new one', async () => {
    const onSubmit = setup(metaMain);
    await userEvent.click(screen.getByRole('checkbox', { name: 'Clear Access token' }));
    await userEvent.click(screen.getByRole('button', { name: 'Save changes' }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(document.getElementById('connection-field-access_token-error')?.textContent).toBe('Required.');
  });
});
