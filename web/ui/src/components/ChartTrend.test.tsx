import { act, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { summaryFixture } from '../lib/kpiFixtures';
import { toggleTheme } from '../lib/theme';
import { MONEY_SERIES } from './DashboardCharts';

// jsdom has no canvas: record what the chart is asked to draw instead.
const made = vi.hoisted(() => [] as { opts: any; data: any; destroyed: boolean }[]);
vi.mock('uplot', () => {
  class FakePlot {
    static pxRatio = 1;
    record: { opts: any; data: any; destroyed: boolean };
    bbox = { top: 0, left: 0, width: 100, height: 50 };
    cursor: { idx: number | null } = { idx: null };
    ctx = {
      save: vi.fn(),
      restore: vi.fn(),
      beginPath: vi.fn(),
      moveTo: vi.fn(),
      lineTo: vi.fn(),
      closePath: vi.fn(),
      stroke: vi.fn(),
      fill: vi.fn(),
      setLineDash: vi.fn(),
      fillStyle: '',
      strokeStyle: '',
      lineWidth: 1,
    };
    constructor(opts: any, data: any) {
      this.record = { opts, data, destroyed: false };
      made.push(this.record);
    }
    valToPos(v: number) {
      return v;
    }
    setSize() {}
    destroy() {
      this.record.destroyed = true;
    }
  }
  return { default: FakePlot };
});

const { ChartTrend } = await import('./ChartTrend');
const eur = summaryFixture().currencies[0]!;

describe('ChartTrend', () => {
  beforeEach(() => {
    made.length = 0;
    document.documentElement.dataset.theme = 'light';
    document.documentElement.style.setProperty('--chart-spend', '#111111');
    document.documentElement.style.setProperty('--chart-revenue', '#222222');
    document.documentElement.style.setProperty('--chart-anomaly', '#c0166b');
  });
  afterEach(() => {
    document.documentElement.removeAttribute('style');
  });

  it('draws the series in the theme colours and redraws when the theme changes', () => {
    render(<ChartTrend title="Spend and revenue per day" days={eur.days} series={MONEY_SERIES} anomalies={eur.anomalies} currency="EUR" />);
    expect(made).toHaveLength(1);
    expect(made[0]!.opts.series.slice(1).map((s: any) => [s.label, s.stroke])).toEqual([
      ['Spend', '#111111'],
      ['Revenue', '#222222'],
    ]);
    expect(made[0]!.data[1][0]).toBe(100);

    document.documentElement.style.setProperty('--chart-spend', '#abcdef');
    act(() => toggleTheme());
    expect(made).toHaveLength(2);
    expect(made[0]!.destroyed).toBe(true);
    expect(made[1]!.opts.series[1].stroke).toBe('#abcdef');
  });

  it('stands for the chart in words and marks the anomaly day', () => {
    render(<ChartTrend title="Spend and revenue per day" days={eur.days} series={MONEY_SERIES} anomalies={eur.anomalies} currency="EUR" />);
    const img = screen.getByRole('img');
    expect(img.getAttribute('aria-label')).toMatch(/^Daily Spend and Revenue, 26 Oct – 22 Nov 2026\. Spend from €100\.00 on 26 Oct to €370\.00 on 22 Nov\..* 1 anomaly marked\.$/);
    expect(screen.getByRole('figure', { name: 'Spend and revenue per day' })).toBeTruthy();

    // The draw hook puts a diamond at the anomaly's day (index 19: 14 Nov) in the anomaly colour.
    const fake = new (class {
      bbox = { top: 0, left: 0, width: 100, height: 50 };
      ctx = { save() {}, restore() {}, beginPath() {}, closePath() {}, stroke() {}, fill: vi.fn(), moveTo: vi.fn(), lineTo: vi.fn(), fillStyle: '', strokeStyle: '', lineWidth: 1 };
      valToPos(v: number) {
        return v;
      }
    })();
    made[0]!.opts.hooks.draw[0](fake);
    expect(fake.ctx.fillStyle).toBe('#c0166b');
    expect(fake.ctx.fill).toHaveBeenCalledTimes(1);
    expect(fake.ctx.moveTo).toHaveBeenCalledWith(19, 290 - 7); // the diamond's top, on the day's spend (€290)
  });

  it('tells what was odd when the pointer is on an anomaly day', () => {
    const { container } = render(<ChartTrend title="t" days={eur.days} series={MONEY_SERIES} anomalies={eur.anomalies} currency="EUR" />);
    const hook = made[0]!.opts.hooks.setCursor[0];
    act(() => hook({ cursor: { idx: 19 } }));
    expect(container.querySelector('.chart-note')?.textContent).toContain('14 Nov: Spend on 14 Nov was €290.00');
    act(() => hook({ cursor: { idx: 2 } }));
    expect(container.querySelector('.chart-note')?.textContent).toContain('marks an anomaly');
  });
});
