// Data for the daily trend charts: the columns uPlot draws, where the anomaly markers go, and the
// words that stand for the chart for anyone who does not see it.
import type { KpiAnomaly, KpiDay } from '../api/kpis';
import { formatDay, formatSpan } from './kpiFormat';
import { formatMetric, metricDef } from './kpiMetrics';

export type DayMetric = 'spend' | 'revenue' | 'conversions' | 'impressions' | 'clicks' | 'roas' | 'cpa' | 'ctr';

export interface ChartSeries {
  metric: DayMetric;
  /** The CSS variable the colour comes from, read when the chart is drawn. */
  colorVar: string;
  dashed?: boolean;
}

export interface AnomalyMark {
  index: number;
  date: string;
  metric: DayMetric;
  value: number;
  direction: 'up' | 'down';
  sentence: string;
}

/** x is the day's index (days are calendar days: no time zone gets in the way), then one column per series. */
export function chartColumns(days: readonly KpiDay[], series: readonly ChartSeries[]): [number[], ...(number | null)[][]] {
  const xs = days.map((_, i) => i);
  const ys = series.map((s) =>
    days.map((d) => {
      const v = d[s.metric];
      return typeof v === 'number' && Number.isFinite(v) ? v : null;
    }),
  );
  return [xs, ...ys];
}

/** The anomalies this chart can show: those of a metric it draws, on a day it has. */
export function anomalyMarks(days: readonly KpiDay[], anomalies: readonly KpiAnomaly[], series: readonly ChartSeries[]): AnomalyMark[] {
  const index = new Map(days.map((d, i) => [d.date, i]));
  const drawn = new Set<string>(series.map((s) => s.metric));
  const marks: AnomalyMark[] = [];
  for (const a of anomalies) {
    const i = index.get(a.date);
    if (i === undefined || !drawn.has(a.metric)) continue;
    const day = days[i];
    const plotted = day ? day[a.metric as DayMetric] : null;
    marks.push({
      index: i,
      date: a.date,
      metric: a.metric as DayMetric,
      value: typeof plotted === 'number' && Number.isFinite(plotted) ? plotted : a.value,
      direction: a.direction,
      sentence: a.sentence,
    });
  }
  return marks;
}

/** One sentence per series (total or average, lowest and highest day) and the anomalies marked. */
export function chartSummary(days: readonly KpiDay[], series: readonly ChartSeries[], marks: readonly AnomalyMark[], currency: string): string {
  if (days.length === 0) return 'No days to chart.';
  const first = days[0]!.date;
  const last = days[days.length - 1]!.date;
  const parts = [`Daily ${series.map((s) => metricDef(s.metric).label).join(' and ')}, ${formatSpan(first, last)}.`];
  for (const s of series) {
    const points = days
      .map((d) => ({ date: d.date, v: d[s.metric] }))
      .filter((p): p is { date: string; v: number } => typeof p.v === 'number' && Number.isFinite(p.v));
    const label = metricDef(s.metric).label;
    if (points.length === 0) {
      parts.push(`${label}: no values.`);
      continue;
    }
    const low = points.reduce((a, b) => (b.v < a.v ? b : a));
    const high = points.reduce((a, b) => (b.v > a.v ? b : a));
    parts.push(
      `${label} from ${formatMetric(s.metric, low.v, currency)} on ${formatDay(low.date, { year: false })} ` +
        `to ${formatMetric(s.metric, high.v, currency)} on ${formatDay(high.date, { year: false })}.`,
    );
  }
  parts.push(marks.length === 0 ? 'No anomalies.' : `${marks.length} ${marks.length === 1 ? 'anomaly' : 'anomalies'} marked.`);
  return parts.join(' ');
}
