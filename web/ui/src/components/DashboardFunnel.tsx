import type { Funnel } from '../api/kpis';
import { formatCount, formatRate } from '../lib/kpiFormat';

/** Bar widths on a log scale: clicks are a percent or two of impressions and would not show otherwise. */
export function funnelWidths(funnel: Funnel): [number, number, number] {
  const top = Math.max(funnel.impressions, funnel.clicks, funnel.conversions, 1);
  const width = (n: number) => (n <= 0 ? 0 : Math.max(4, Math.round((100 * Math.log10(n + 1)) / Math.log10(top + 1))));
  return [width(funnel.impressions), width(funnel.clicks), width(funnel.conversions)];
}

/** Impressions → clicks → conversions, with the rate of each step (CTR, CVR). */
export function DashboardFunnel({ funnel }: { funnel: Funnel }) {
  const [wi, wc, wv] = funnelWidths(funnel);
  const steps = [
    { label: 'Impressions', value: funnel.impressions, width: wi, rate: null },
    { label: 'Clicks', value: funnel.clicks, width: wc, rate: `CTR ${formatRate(funnel.ctr)} of impressions` },
    { label: 'Conversions', value: funnel.conversions, width: wv, rate: `CVR ${formatRate(funnel.cvr)} of clicks` },
  ];
  return (
    <ol className="funnel" aria-label="Funnel">
      {steps.map((s) => (
        <li key={s.label} className="funnel-step">
          {s.rate && (
            <p className="funnel-rate">
              <span aria-hidden="true">↓ </span>
              {s.rate}
            </p>
          )}
          <div className="funnel-row">
            <span className="funnel-label">{s.label}</span>
            <span className="funnel-track" aria-hidden="true">
              <span className="funnel-bar" style={{ width: `${s.width}%` }} />
            </span>
            <span className="funnel-value num">{formatCount(s.value)}</span>
          </div>
        </li>
      ))}
    </ol>
  );
}
