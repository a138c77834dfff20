import { useId } from 'react';
import type { KpiChange, KpiTotals } from '../api/kpis';
import { deltaDirection, deltaSentence, deltaShort, deltaTone, formatMetric, metricDef, TILE_METRICS, type MetricKey } from '../lib/kpiMetrics';

const ARROWS = { up: '▲', down: '▼', flat: '■', none: '' } as const;

/** The change against the previous period: an arrow and a percentage coloured by whether it is good
 * news, and the whole move in words for screen readers. */
export function KpiDelta({ metric, change, currency }: { metric: string; change: KpiChange | undefined | null; currency: string }) {
  const direction = deltaDirection(change);
  const tone = deltaTone(metric, change);
  const sentence = deltaSentence(metric, change, currency);
  if (direction === 'none') {
    return (
      <p className="kpi-delta kpi-delta-none">
        <span aria-hidden="true">No previous period</span>
        <span className="visually-hidden">{sentence}</span>
      </p>
    );
  }
  return (
    <p className={`kpi-delta kpi-delta-${tone}`} title={sentence}>
      <span aria-hidden="true">
        <span className="kpi-delta-change">
          {ARROWS[direction]} {deltaShort(change)}
        </span>{' '}
        <span className="kpi-delta-prev">vs {formatMetric(metric, change?.previous, currency)}</span>
      </span>
      <span className="visually-hidden">{sentence}</span>
    </p>
  );
}

export function KpiTile({
  metric,
  value,
  change,
  currency,
  showDelta = true,
}: {
  metric: MetricKey;
  value: number | null;
  change?: KpiChange | null;
  currency: string;
  showDelta?: boolean;
}) {
  const labelId = useId();
  const def = metricDef(metric);
  const whole = def.kind === 'money' && value !== null && Math.abs(value) >= 10_000;
  return (
    <div className="kpi-tile" role="group" aria-labelledby={labelId}>
      <p className="kpi-label" id={labelId}>
        <span title={def.help}>{def.label}</span> <span className="visually-hidden">({currency})</span>
      </p>
      <p className="kpi-value num" title={formatMetric(metric, value, currency)}>
        {formatMetric(metric, value, currency, { whole })}
      </p>
      {showDelta && <KpiDelta metric={metric} change={change} currency={currency} />}
    </div>
  );
}

/** The six headline figures of one currency. */
export function KpiTiles({
  totals,
  changes,
  currency,
  metrics = TILE_METRICS,
  showDelta = true,
}: {
  totals: KpiTotals;
  changes?: Partial<Record<string, KpiChange>>;
  currency: string;
  metrics?: MetricKey[];
  showDelta?: boolean;
}) {
  return (
    <ul className="kpi-tiles" aria-label={`Key figures in ${currency}`}>
      {metrics.map((metric) => (
        <li key={metric}>
          <KpiTile metric={metric} value={totals[metric] ?? null} change={changes?.[metric]} currency={currency} showDelta={showDelta} />
        </li>
      ))}
    </ul>
  );
}
