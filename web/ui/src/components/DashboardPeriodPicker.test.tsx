import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { apiQuery, dashboardHref, type PeriodSelection } from '../lib/kpiPeriod';
import { DashboardPeriodPicker } from './DashboardPeriodPicker';

const shown = { since: '2026-10-26', until: '2026-11-22' };

function setup(selection: PeriodSelection = { kind: 'preset', days: 28 }) {
  const onChange = vi.fn<(s: PeriodSelection) => void>();
  render(<DashboardPeriodPicker selection={selection} platforms={['google_ads', 'meta']} shown={shown} latestDate="2026-11-22" onChange={onChange} />);
  return { onChange, user: userEvent.setup() };
}

describe('DashboardPeriodPicker', () => {
  it('turns a preset into the URL and the API query ending on the newest day', async () => {
    const { onChange, user } = setup();
    await user.selectOptions(screen.getByLabelText('Period'), 'Last 7 days');
    const chosen = onChange.mock.calls[0]![0];
    expect(dashboardHref(chosen)).toBe('/dashboard?range=7');
    expect(apiQuery(chosen, '2026-11-22')).toEqual({ since: '2026-11-16', until: '2026-11-22', platform: undefined });
  });

  it('keeps the period when the platform changes', async () => {
    const { onChange, user } = setup({ kind: 'preset', days: 90 });
    const platform = screen.getByLabelText('Platform');
    expect([...(platform as HTMLSelectElement).options].map((o) => o.text)).toEqual(['All platforms', 'Google Ads', 'Meta']);
    await user.selectOptions(platform, 'Meta');
    expect(dashboardHref(onChange.mock.calls[0]![0])).toBe('/dashboard?range=90&platform=meta');
  });

  it('applies custom dates only when they are valid', async () => {
    const { onChange, user } = setup();
    await user.selectOptions(screen.getByLabelText('Period'), 'Custom dates');
    expect(onChange).not.toHaveBeenCalled();
    const from = screen.getByLabelText('First day') as HTMLInputElement;
    const to = screen.getByLabelText('Last day') as HTMLInputElement;
    // Starts from the period on screen.
    expect(from.value).toBe('2026-10-26');
    expect(to.value).toBe('2026-11-22');

    await user.clear(to);
    await user.type(to, '2026-10-01');
    await user.click(screen.getByRole('button', { name: 'Show these dates' }));
    expect(onChange).not.toHaveBeenCalled();
    expect(to.getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText('The last day must not be before the first day.')).toBeTruthy();

    await user.clear(from);
    await user.type(from, '2026-09-01');
    await user.click(screen.getByRole('button', { name: 'Show these dates' }));
    const chosen = onChange.mock.calls[0]![0];
    expect(dashboardHref(chosen)).toBe('/dashboard?since=2026-09-01&until=2026-10-01');
    expect(apiQuery(chosen, '2026-11-22')).toEqual({ since: '2026-09-01', until: '2026-10-01', platform: undefined });
  });

  it('shows custom dates from the URL', () => {
    setup({ kind: 'custom', since: '2026-01-01', until: '2026-01-31', platform: 'tiktok' });
    expect((screen.getByLabelText('Period') as HTMLSelectElement).value).toBe('custom');
    expect((screen.getByLabelText('First day') as HTMLInputElement).value).toBe('2026-01-01');
    // A platform from the URL stays choosable even when this period has none of its data.
    expect((screen.getByLabelText('Platform') as HTMLSelectElement).value).toBe('tiktok');
  });
});
