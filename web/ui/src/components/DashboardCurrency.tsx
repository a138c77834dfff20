import { useId } from 'react';
import type { CurrencyKpis } from '../api/kpis';
import { DashboardAnomalies } from './DashboardAnomalies';
import { DashboardCharts } from './DashboardCharts';
import { DashboardDayTable } from './DashboardDayTable';
import { KpiTiles } from './KpiTiles';

/** Everything the dashboard says about one currency: amounts in different currencies are never added. */
export function DashboardCurrency({ kpis, only }: { kpis: CurrencyKpis; only: boolean }) {
  const headingId = useId();
  const { currency } = kpis;
  return (
    <section className="card dashboard-currency" aria-labelledby={headingId}>
      <h2 id={headingId}>{only ? `Key figures (${currency})` : `Key figures in ${currency}`}</h2>
      <KpiTiles totals={kpis.totals} changes={kpis.changes} currency={currency} />
      <DashboardCharts days={kpis.days} anomalies={kpis.anomalies} currency={currency} />
      <DashboardAnomalies anomalies={kpis.anomalies} />
      <details className="day-details">
        <summary>Daily numbers as a table</summary>
        <DashboardDayTable days={kpis.days} anomalies={kpis.anomalies} currency={currency} caption={`Day by day (${currency})`} />
      </details>
    </section>
  );
}
