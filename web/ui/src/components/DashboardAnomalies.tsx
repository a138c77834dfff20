import { useId, useState } from 'react';
import type { KpiAnomaly } from '../api/kpis';
import { formatDay } from '../lib/kpiFormat';
import { metricDef } from '../lib/kpiMetrics';

/** How many anomalies show before "Show all". */
export const ANOMALIES_SHOWN = 5;

/** The ones to show first: the most unusual (largest |z|), then in date order. */
export function topAnomalies(anomalies: readonly KpiAnomaly[], count: number): KpiAnomaly[] {
  return [...anomalies]
    .sort((a, b) => Math.abs(b.z) - Math.abs(a.z) || a.date.localeCompare(b.date))
    .slice(0, count)
    .sort(byDate);
}

function byDate(a: KpiAnomaly, b: KpiAnomaly): number {
  return a.date.localeCompare(b.date) || a.metric.localeCompare(b.metric);
}

/** The anomalies of a period in words: what the charts mark with a diamond. Many of them are cut
 * to the most unusual few, with the rest a click away. */
export function DashboardAnomalies({ anomalies, headingLevel = 3 }: { anomalies: readonly KpiAnomaly[]; headingLevel?: 3 | 4 }) {
  const Heading = headingLevel === 3 ? 'h3' : 'h4';
  const [all, setAll] = useState(false);
  const listId = useId();
  const cut = anomalies.length > ANOMALIES_SHOWN && !all;
  const shown = cut ? topAnomalies(anomalies, ANOMALIES_SHOWN) : [...anomalies].sort(byDate);
  return (
    <section className="anomalies">
      <Heading>
        <span className="anomaly-diamond" aria-hidden="true" /> Anomalies{anomalies.length > 0 ? ` (${anomalies.length})` : ''}
      </Heading>
      {anomalies.length === 0 ? (
        <p className="muted">No day in this period stands out from its usual range.</p>
      ) : (
        <>
          {cut && <p className="muted small anomaly-cut">The {ANOMALIES_SHOWN} most unusual, by date:</p>}
          <ul className="anomaly-list" id={listId}>
            {shown.map((a) => (
              <li key={`${a.date}-${a.metric}`}>
                <time dateTime={a.date} className="anomaly-date">
                  {formatDay(a.date)}
                </time>
                <span className="anomaly-metric">
                  {metricDef(a.metric).label} {a.direction === 'up' ? 'high' : 'low'}
                </span>
                <span className="anomaly-sentence">{a.sentence}</span>
              </li>
            ))}
          </ul>
          {anomalies.length > ANOMALIES_SHOWN && (
            <button type="button" className="button button-small anomaly-toggle" aria-controls={listId} aria-expanded={all} onClick={() => setAll((v) => !v)}>
              {all ? `Show the ${ANOMALIES_SHOWN} most unusual` : `Show all ${anomalies.length} anomalies`}
            </button>
          )}
        </>
      )}
    </section>
  );
}
