import type { KpiAnomaly, KpiDay } from '../api/kpis';
import type { ChartSeries } from '../lib/kpiChart';
import { ChartTrend } from './ChartTrend';

// Module constants, so the charts are not redrawn on every render.
export const MONEY_SERIES: ChartSeries[] = [
  { metric: 'spend', colorVar: '--chart-spend' },
  { metric: 'revenue', colorVar: '--chart-revenue', dashed: true },
];
export const RESULT_SERIES: ChartSeries[] = [
  { metric: 'conversions', colorVar: '--chart-conversions' },
  { metric: 'cpa', colorVar: '--chart-cpa', dashed: true },
];

/** The two daily trend charts: spend and revenue; conversions and CPA. */
export function DashboardCharts({ days, anomalies, currency, height }: { days: readonly KpiDay[]; anomalies: readonly KpiAnomaly[]; currency: string; height?: number }) {
  return (
    <div className="dashboard-charts">
      <ChartTrend title={`Spend and revenue per day (${currency})`} days={days} series={MONEY_SERIES} anomalies={anomalies} currency={currency} height={height} />
      <ChartTrend title={`Conversions and CPA per day (${currency})`} days={days} series={RESULT_SERIES} anomalies={anomalies} currency={currency} height={height} />
    </div>
  );
}
