import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/client';
import type { Connection } from '../api/connections';
import { metaMain, metaType, slackType } from '../lib/connectionFixtures';
import { ConnectionCard, visibleFields } from './ConnectionCard';

const SECRET = 'xoxb-very-secret-value';

// A connection whose answer (wrongly) carries secret values: the card must still not show them.
const leaky: Connection = {
  name: 'slack-main',
  type: 'slack',
  fields: { channel: '#ops', bot_token: SECRET, webhook_url: `https://hooks.slack.com/${SECRET}` },
  secret_fields_set: ['bot_token', 'webhook_url'],
  rate_limit: { per_second: 1, burst: 5 },
  rate_limit_default: true,
  key_id: 'k1',
  created_at: 1,
  updated_at: Date.now() - 120_000,
};

describe('ConnectionCard', () => {
  it('shows settings, which secrets are set, the rate limit, never a secret value', () => {
    const { container } = render(<ConnectionCard connection={leaky} type={slackType} canWrite canTest onTest={vi.fn()} onEdit={vi.fn()} onRemove={vi.fn()} />);
    expect(screen.getByRole('heading', { name: 'slack-main' })).toBeTruthy();
    expect(screen.getByText('Slack')).toBeTruthy();
    expect(screen.getByText('#ops')).toBeTruthy();
    expect(screen.getByText('Bot token: set')).toBeTruthy();
    expect(screen.getByText('Incoming webhook URL: set')).toBeTruthy();
    expect(screen.getByText('1 call/s, burst 5')).toBeTruthy();
    expect(screen.getByText('2 min ago')).toBeTruthy();
    expect(container.innerHTML).not.toContain(SECRET);
  });

  it('leaves out fields the type marks secret even when not named as set', () => {
    const conn = { ...leaky, secret_fields_set: [] };
    expect(visibleFields(conn, slackType).map((f) => f.name)).toEqual(['channel']);
    // Without the type, the names of set secrets still hide their values.
    expect(visibleFields(leaky).map((f) => f.name)).toEqual(['channel']);
  });

  it('offers only the actions the user may take', () => {
    render(<ConnectionCard connection={metaMain} type={metaType} canWrite={false} canTest onTest={vi.fn()} onEdit={vi.fn()} onRemove={vi.fn()} />);
    expect(screen.getByRole('button', { name: 'Test meta-main' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Edit meta-main' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Remove meta-main' })).toBeNull();
  });

  it('announces the test result: passed with its checks, or failed with the reason', async () => {
    const onTest = vi
      .fn()
      .mockResolvedValueOnce({ ok: true, checks: ['decrypted the secret fields', 'validated the stored fields'] })
      .mockResolvedValueOnce({ ok: false, checks: ['decrypted the secret fields'], error: 'token endpoint answered 400: invalid_grant' })
      .mockRejectedValueOnce(new ApiError({ type: 'about:blank', title: 'Service unavailable', status: 503, detail: 'no master key' }));
    const { container } = render(<ConnectionCard connection={metaMain} type={metaType} canWrite canTest onTest={onTest} />);
    const live = container.querySelector('[aria-live="polite"]')!;
    const button = screen.getByRole('button', { name: 'Test meta-main' });

    await userEvent.click(button);
    expect(await screen.findByText('Test passed: meta-main works.')).toBeTruthy();
    expect(live.textContent).toContain('validated the stored fields');

    await userEvent.click(button);
    expect(await screen.findByText('Test failed: token endpoint answered 400: invalid_grant')).toBeTruthy();
    expect(live.textContent).toContain('decrypted the secret fields');

    await userEvent.click(button);
    expect(await screen.findByText(/Could not test meta-main: Service unavailable/)).toBeTruthy();
    expect(live.textContent).toContain('no master key');
    expect(onTest).toHaveBeenCalledTimes(3);
  });
});
