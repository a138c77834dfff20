import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { KpiAnomaly } from '../api/kpis';
import { DashboardAnomalies } from './DashboardAnomalies';

const anomaly = (day: number, z: number): KpiAnomaly => ({
  date: `2026-11-${String(day).padStart(2, '0')}`,
  metric: day % 2 ? 'spend' : 'cpa',
  value: 1,
  expected: 1,
  low: 0,
  high: 2,
  z,
  direction: z > 0 ? 'up' : 'down',
  sentence: `Day ${day} was odd.`,
});

describe('DashboardAnomalies', () => {
  it('shows the five most unusual by date, and all on request', async () => {
    const list = [anomaly(1, 2), anomaly(2, -9), anomaly(3, 3), anomaly(4, 8), anomaly(5, 1), anomaly(6, -4), anomaly(7, 5)];
    render(<DashboardAnomalies anomalies={list} />);
    expect(screen.getByRole('heading', { name: 'Anomalies (7)' })).toBeTruthy();
    const texts = () => screen.getAllByRole('listitem').map((li) => li.querySelector('.anomaly-sentence')?.textContent);
    expect(texts()).toEqual(['Day 2 was odd.', 'Day 3 was odd.', 'Day 4 was odd.', 'Day 6 was odd.', 'Day 7 was odd.']);
    expect(screen.getAllByRole('listitem')[0]!.textContent).toContain('2 Nov 2026CPA low');

    const toggle = screen.getByRole('button', { name: 'Show all 7 anomalies' });
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    await userEvent.setup().click(toggle);
    expect(texts()).toHaveLength(7);
    expect(screen.getByRole('button', { name: 'Show the 5 most unusual' }).getAttribute('aria-expanded')).toBe('true');
  });

  it('says when nothing stands out', () => {
    render(<DashboardAnomalies anomalies={[]} />);
    expect(screen.getByText('No day in this period stands out from its usual range.')).toBeTruthy();
    expect(screen.queryByRole('button')).toBeNull();
  });
});
