import type { KpiAnomaly, KpiDay } from '../api/kpis';
import { formatDay } from '../lib/kpiFormat';
import { formatMetric } from '../lib/kpiMetrics';

const COLUMNS = ['spend', 'revenue', 'roas', 'conversions', 'cpa', 'impressions', 'clicks', 'ctr'] as const;
const HEADS: Record<(typeof COLUMNS)[number], string> = {
  spend: 'Spend',
  revenue: 'Revenue',
  roas: 'ROAS',
  conversions: 'Conversions',
  cpa: 'CPA',
  impressions: 'Impressions',
  clicks: 'Clicks',
  ctr: 'CTR',
};

/** Day by day, the numbers behind the charts; anomaly days are marked and say why. */
export function DashboardDayTable({ days, anomalies, currency, caption }: { days: readonly KpiDay[]; anomalies: readonly KpiAnomaly[]; currency: string; caption: string }) {
  const byDay = new Map<string, KpiAnomaly[]>();
  for (const a of anomalies) byDay.set(a.date, [...(byDay.get(a.date) ?? []), a]);
  return (
    <div className="table-wrap day-table-wrap">
      <table className="table table-compact day-table">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            {COLUMNS.map((c) => (
              <th key={c} scope="col" className="num-col">
                {HEADS[c]}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {days.map((d) => {
            const odd = byDay.get(d.date);
            return (
              <tr key={d.date} className={odd ? 'day-anomalous' : undefined}>
                <th scope="row">
                  <time dateTime={d.date}>{formatDay(d.date)}</time>
                  {odd && (
                    <span className="day-anomaly" title={odd.map((a) => a.sentence).join(' ')}>
                      {' '}
                      <span className="anomaly-diamond" aria-hidden="true" />
                      <span className="visually-hidden">Anomaly: {odd.map((a) => a.sentence).join(' ')}</span>
                    </span>
                  )}
                </th>
                {COLUMNS.map((c) => (
                  <td key={c} className="num">
                    {formatMetric(c, d[c], currency)}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
