import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { summaryFixture } from '../lib/kpiFixtures';
import { KpiTiles } from './KpiTiles';

describe('KpiTiles', () => {
  const eur = summaryFixture().currencies[0]!;

  it('renders the six tiles of a currency with values and deltas', () => {
    render(<KpiTiles totals={eur.totals} changes={eur.changes} currency="EUR" />);
    const list = screen.getByRole('list', { name: 'Key figures in EUR' });
    expect(within(list).getAllByRole('listitem')).toHaveLength(6);
    const names = within(list)
      .getAllByRole('group')
      .map((g) => g.getAttribute('aria-labelledby') && document.getElementById(g.getAttribute('aria-labelledby')!)?.textContent);
    expect(names).toEqual(['Spend (EUR)', 'Revenue (EUR)', 'ROAS (EUR)', 'CAC (EUR)', 'CPA (EUR)', 'Conversions (EUR)']);

    const spend = screen.getByRole('group', { name: 'Spend (EUR)' });
    // Large amounts drop the cents on the tile; the exact figure is in the title.
    expect(within(spend).getByText('€12,346').getAttribute('title')).toBe('€12,345.60');
    expect(within(spend).getByText('Spend up 23.5% from €10,000.00 in the previous period.')).toBeTruthy();

    const roas = screen.getByRole('group', { name: 'ROAS (EUR)' });
    expect(within(roas).getByText('3.24×')).toBeTruthy();
    expect(within(roas).getByText('ROAS down 22.9% from 4.20× in the previous period. That is worse.')).toBeTruthy();
  });

  it('colours each delta by whether it is good news for that metric', () => {
    const { container } = render(<KpiTiles totals={eur.totals} changes={eur.changes} currency="EUR" />);
    const tone = (name: string) => {
      const group = screen.getByRole('group', { name: `${name} (EUR)` });
      return group.querySelector('.kpi-delta')?.className;
    };
    expect(tone('Spend')).toContain('kpi-delta-neutral'); // up, but spend is neutral
    expect(tone('Revenue')).toContain('kpi-delta-bad'); // down
    expect(tone('ROAS')).toContain('kpi-delta-bad'); // down
    expect(tone('CAC')).toContain('kpi-delta-neutral'); // unchanged
    expect(tone('CPA')).toContain('kpi-delta-bad'); // up
    expect(tone('Conversions')).toContain('kpi-delta-good'); // up
    // The arrow and percentage are for the eye; screen readers get the sentence.
    const visible = container.querySelector('.kpi-delta-good [aria-hidden="true"]');
    expect(visible?.textContent).toBe('▲ +5.0% vs 400');
  });

  it('says when there is no previous period and shows a dash for a ratio without a value', () => {
    render(<KpiTiles totals={{ ...eur.totals, roas: null }} changes={{}} currency="USD" />);
    const roas = screen.getByRole('group', { name: 'ROAS (USD)' });
    expect(within(roas).getByText('—')).toBeTruthy();
    expect(within(roas).getByText('ROAS: no previous period to compare with.')).toBeTruthy();
  });
});
