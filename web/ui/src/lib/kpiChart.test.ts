import { describe, expect, it } from 'vitest';
import type { KpiAnomaly } from '../api/kpis';
import { anomalyMarks, chartColumns, chartSummary, type ChartSeries } from './kpiChart';
import { fixtureDays } from './kpiFixtures';

const series: ChartSeries[] = [
  { metric: 'conversions', colorVar: '--a' },
  { metric: 'cpa', colorVar: '--b' },
];
const days = fixtureDays('2026-11-01', 7);

function anomaly(date: string, metric: string, value: number): KpiAnomaly {
  return { date, metric, value, expected: 1, low: 0, high: 2, z: 3, direction: 'up', sentence: `${metric} odd on ${date}` };
}

describe('chart data', () => {
  it('has the day index as x and a gap where a ratio has no value', () => {
    const [xs, conversions, cpa] = chartColumns(days, series);
    expect(xs).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(conversions?.[3]).toBe(0);
    expect(cpa?.[3]).toBeNull();
    expect(cpa?.[0]).toBe(25);
  });

  it('marks anomalies of the metrics it draws, on the days it has', () => {
    const marks = anomalyMarks(days, [anomaly('2026-11-03', 'cpa', 99), anomaly('2026-11-03', 'spend', 1), anomaly('2026-12-25', 'cpa', 5)], series);
    expect(marks).toHaveLength(1);
    // The marker sits on the drawn line: the day's value.
    expect(marks[0]).toMatchObject({ index: 2, metric: 'cpa', value: 120 / 6, sentence: 'cpa odd on 2026-11-03' });
  });

  it('sums the chart up in words', () => {
    const marks = anomalyMarks(days, [anomaly('2026-11-03', 'cpa', 99)], series);
    expect(chartSummary(days, series, marks, 'EUR')).toBe(
      'Daily Conversions and CPA, 1 Nov – 7 Nov 2026. Conversions from 0 on 4 Nov to 6 on 3 Nov. CPA from €20.00 on 3 Nov to €40.00 on 7 Nov. 1 anomaly marked.',
    );
    expect(chartSummary([], series, [], 'EUR')).toBe('No days to chart.');
  });
});
