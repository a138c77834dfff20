// What each KPI is, how it reads, and whether its rise is good news: spend is neutral (more
// spend is a choice, not a result), CPA/CAC/CPC going up is bad, everything else going up is good.
import type { KpiChange } from '../api/kpis';
import { NONE, formatCount, formatDeltaPct, formatMoney, formatMultiple, formatRate } from './kpiFormat';

export type MetricKind = 'money' | 'count' | 'multiple' | 'rate';
export type Better = 'up' | 'down' | 'neutral';

export interface MetricDef {
  label: string;
  /** The name said in a sentence ("Spend rose…"); defaults to the label. */
  spoken?: string;
  kind: MetricKind;
  better: Better;
  help: string;
}

export const METRICS = {
  spend: { label: 'Spend', kind: 'money', better: 'neutral', help: 'What the ads cost.' },
  revenue: { label: 'Revenue', kind: 'money', better: 'up', help: 'Revenue attributed to the ads.' },
  roas: { label: 'ROAS', kind: 'multiple', better: 'up', help: 'Return on ad spend: revenue divided by spend.' },
  cac: { label: 'CAC', kind: 'money', better: 'down', help: 'Customer acquisition cost: spend divided by new customers.' },
  cpa: { label: 'CPA', kind: 'money', better: 'down', help: 'Cost per acquisition: spend divided by conversions.' },
  conversions: { label: 'Conversions', kind: 'count', better: 'up', help: 'Conversions attributed to the ads.' },
  impressions: { label: 'Impressions', kind: 'count', better: 'up', help: 'Times the ads were shown.' },
  clicks: { label: 'Clicks', kind: 'count', better: 'up', help: 'Clicks on the ads.' },
  customers: { label: 'Customers', kind: 'count', better: 'up', help: 'New customers.' },
  ctr: { label: 'CTR', kind: 'rate', better: 'up', help: 'Click-through rate: clicks divided by impressions.' },
  cvr: { label: 'CVR', kind: 'rate', better: 'up', help: 'Conversion rate: conversions divided by clicks.' },
  cpc: { label: 'CPC', kind: 'money', better: 'down', help: 'Cost per click: spend divided by clicks.' },
} satisfies Record<string, MetricDef>;

export type MetricKey = keyof typeof METRICS;

/** The tiles of the dashboard, in order. */
export const TILE_METRICS: MetricKey[] = ['spend', 'revenue', 'roas', 'cac', 'cpa', 'conversions'];

export function metricDef(metric: string): MetricDef {
  return (METRICS as Record<string, MetricDef>)[metric] ?? { label: metric, kind: 'count', better: 'neutral', help: '' };
}

export function formatMetric(metric: string, value: number | null | undefined, currency: string, options: { whole?: boolean } = {}): string {
  switch (metricDef(metric).kind) {
    case 'money':
      return formatMoney(value, currency, options);
    case 'multiple':
      return formatMultiple(value);
    case 'rate':
      return formatRate(value);
    default:
      return formatCount(value);
  }
}

export type Direction = 'up' | 'down' | 'flat' | 'none';
export type Tone = 'good' | 'bad' | 'neutral';

/** Which way a metric moved; 'none' when there is nothing to compare with. */
export function deltaDirection(change: KpiChange | undefined | null): Direction {
  if (!change || change.value === null || change.previous === null) return 'none';
  const delta = change.delta ?? change.value - change.previous;
  if (!Number.isFinite(delta)) return 'none';
  // A change that rounds to 0.0% reads as no change.
  if (delta === 0 || (change.delta_pct !== null && Math.abs(change.delta_pct) < 0.05)) return 'flat';
  return delta > 0 ? 'up' : 'down';
}

/** Whether the move is good news for this metric. */
export function deltaTone(metric: string, change: KpiChange | undefined | null): Tone {
  const direction = deltaDirection(change);
  const better = metricDef(metric).better;
  if (direction === 'up' || direction === 'down') {
    if (better === 'neutral') return 'neutral';
    return direction === better ? 'good' : 'bad';
  }
  return 'neutral';
}

/** The short visible form: "+12.5%", or "new" when the previous period had 0 (no percentage). */
export function deltaShort(change: KpiChange | undefined | null): string {
  const direction = deltaDirection(change);
  if (direction === 'none') return NONE;
  if (direction === 'flat') return '0.0%';
  if (change?.delta_pct === null || change?.delta_pct === undefined) return direction === 'up' ? 'up from 0' : NONE;
  return formatDeltaPct(change.delta_pct);
}

/** The whole move in words, for screen readers and tooltips. */
export function deltaSentence(metric: string, change: KpiChange | undefined | null, currency: string): string {
  const def = metricDef(metric);
  const name = def.spoken ?? def.label;
  const direction = deltaDirection(change);
  if (direction === 'none' || !change) return `${name}: no previous period to compare with.`;
  const previous = formatMetric(metric, change.previous, currency);
  if (direction === 'flat') return `${name} unchanged from ${previous} in the previous period.`;
  const tone = deltaTone(metric, change);
  const verdict = tone === 'good' ? ' That is better.' : tone === 'bad' ? ' That is worse.' : '';
  const how =
    change.delta_pct === null
      ? `${direction} from ${previous}`
      : `${direction} ${formatDeltaPct(change.delta_pct).replace(/^[+−]/, '')} from ${previous}`;
  return `${name} ${how} in the previous period.${verdict}`;
}
