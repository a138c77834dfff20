import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it, vi } from 'vitest';
import type { CampaignRow } from '../api/kpis';
import { campaignRows } from '../lib/kpiFixtures';
import { DEFAULT_SORT, nextSort } from '../lib/kpiSort';
import { DashboardCampaignTable } from './DashboardCampaignTable';

function Harness({ onOpen }: { onOpen: (row: CampaignRow) => void }) {
  const [sort, setSort] = useState(DEFAULT_SORT);
  return <DashboardCampaignTable rows={campaignRows} sort={sort} onSort={(k) => setSort((s) => nextSort(s, k))} onOpen={onOpen} />;
}

const order = () =>
  screen
    .getAllByRole('row')
    .slice(1)
    .map((row) => within(row).getAllByRole('button')[0]!.textContent);

describe('DashboardCampaignTable', () => {
  it('sorts by spend first, then by a header chosen with the keyboard', async () => {
    const user = userEvent.setup();
    render(<Harness onOpen={vi.fn()} />);
    expect(order()).toEqual(['Prospecting', 'Brand search', 'Retargeting', 'Summer sale', 'Lookalike']);
    expect(screen.getByRole('columnheader', { name: /Spend/ }).getAttribute('aria-sort')).toBe('descending');

    const cpa = screen.getByRole('button', { name: 'CPA' });
    cpa.focus();
    await user.keyboard('{Enter}');
    expect(screen.getByRole('columnheader', { name: /CPA/ }).getAttribute('aria-sort')).toBe('ascending');
    expect(screen.getByRole('columnheader', { name: /Spend/ }).getAttribute('aria-sort')).toBe('none');
    // Lowest CPA first; the campaigns with no CPA (no conversions) last.
    expect(order()).toEqual(['Summer sale', 'Brand search', 'Retargeting', 'Lookalike', 'Prospecting']);
    expect(screen.getByRole('table').querySelector('caption')?.textContent).toBe('Campaigns, sorted by CPA, lowest first (best first)');

    await user.keyboard(' ');
    expect(screen.getByRole('columnheader', { name: /CPA/ }).getAttribute('aria-sort')).toBe('descending');
    expect(order()).toEqual(['Retargeting', 'Brand search', 'Summer sale', 'Lookalike', 'Prospecting']);

    await user.click(screen.getByRole('button', { name: 'ROAS' }));
    expect(order()).toEqual(['Summer sale', 'Brand search', 'Retargeting', 'Prospecting', 'Lookalike']);
  });

  it('shows the values with their currency and a dash for none', () => {
    render(<Harness onOpen={vi.fn()} />);
    const row = screen.getByRole('button', { name: 'Lookalike' }).closest('tr')!;
    const cells = within(row).getAllByRole('cell').map((c) => c.textContent);
    expect(cells).toEqual(['Meta', 'Paused', '€0.00', '€0.00', '—', '—', '0', '2.00%', '5.00%']);
    const brand = within(screen.getByRole('button', { name: 'Brand search' }).closest('tr')!);
    expect(brand.getByText('Google Ads')).toBeTruthy();
    expect(brand.getByText('Active')).toBeTruthy();
    // Never recorded (no sync yet): said in words, not left blank.
    expect(within(screen.getByRole('button', { name: 'Summer sale' }).closest('tr')!).getByText('Unknown')).toBeTruthy();
  });

  it('opens a campaign from its name', async () => {
    const onOpen = vi.fn();
    render(<Harness onOpen={onOpen} />);
    await userEvent.setup().click(screen.getByRole('button', { name: 'Summer sale' }));
    expect(onOpen).toHaveBeenCalledWith(expect.objectContaining({ campaign_id: 'c5' }));
  });
});
