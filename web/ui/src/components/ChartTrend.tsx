import { useEffect, useId, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { KpiAnomaly, KpiDay } from '../api/kpis';
import { anomalyMarks, chartColumns, chartSummary, type AnomalyMark, type ChartSeries } from '../lib/kpiChart';
import { formatCompact, formatDay } from '../lib/kpiFormat';
import { formatMetric, metricDef, type MetricKind } from '../lib/kpiMetrics';
import { useTheme } from '../lib/theme';

interface ChartTrendProps {
  title: string;
  days: readonly KpiDay[];
  series: readonly ChartSeries[];
  anomalies: readonly KpiAnomaly[];
  currency: string;
  height?: number;
}

const FALLBACK = { text: '#4e596a', grid: '#d3d9e3', surface: '#ffffff', anomaly: '#a21caf' };

/** Reads the theme's colours now: the chart is drawn on a canvas, which CSS cannot restyle later. */
export function chartColors(series: readonly ChartSeries[]) {
  const css = getComputedStyle(document.documentElement);
  const read = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return {
    text: read('--text-muted', FALLBACK.text),
    grid: read('--chart-grid', FALLBACK.grid),
    surface: read('--surface', FALLBACK.surface),
    anomaly: read('--chart-anomaly', FALLBACK.anomaly),
    series: series.map((s) => read(s.colorVar, '#2553c7')),
  };
}

function scaleOf(kind: MetricKind): string {
  return kind;
}

function axisValue(kind: MetricKind, value: number, currency: string): string {
  if (kind === 'money') return formatCompact(value, currency);
  if (kind === 'multiple') return `${formatCompact(value)}×`;
  if (kind === 'rate') return `${formatCompact(value * 100)}%`;
  return formatCompact(value);
}

function drawMarks(u: uPlot, marks: readonly AnomalyMark[], series: readonly ChartSeries[], color: string, outline: string) {
  const ctx = u.ctx;
  const px = uPlot.pxRatio;
  const r = 7 * px;
  ctx.save();
  for (const mark of marks) {
    const s = series.find((c) => c.metric === mark.metric);
    if (!s) continue;
    const x = u.valToPos(mark.index, 'x', true);
    const y = u.valToPos(mark.value, scaleOf(metricDef(s.metric).kind), true);
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    ctx.beginPath();
    ctx.moveTo(x, y - r);
    ctx.lineTo(x + r, y);
    ctx.lineTo(x, y + r);
    ctx.lineTo(x - r, y);
    ctx.closePath();
    ctx.fillStyle = color;
    ctx.fill();
    ctx.lineWidth = 2 * px;
    ctx.strokeStyle = outline;
    ctx.stroke();
  }
  ctx.restore();
}

/**
 * A daily line chart of one or two metrics (a second unit gets the right-hand axis), anomaly days
 * marked with a diamond. The canvas is redrawn with the theme's colours when the
 * theme changes; a summary in words stands for it, and hovering an anomaly day says what was odd.
 */
export function ChartTrend({ title, days, series, anomalies, currency, height = 220 }: ChartTrendProps) {
  const theme = useTheme();
  const holder = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const marks = useMemo(() => anomalyMarks(days, anomalies, series), [days, anomalies, series]);
  const summary = useMemo(() => chartSummary(days, series, marks, currency), [days, series, marks, currency]);
  const [hover, setHover] = useState<number | null>(null);

  useEffect(() => {
    const el = holder.current;
    if (!el || days.length === 0) return;
    const colors = chartColors(series);
    const kinds = [...new Set(series.map((s) => metricDef(s.metric).kind))];
    const width = () => Math.max(280, el.clientWidth || 640);
    const options: uPlot.Options = {
      width: width(),
      height,
      scales: { x: { time: false }, ...Object.fromEntries(kinds.map((k) => [scaleOf(k), {}])) },
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false }, points: { size: 8 } },
      series: [
        { label: 'Day', value: (_u, v) => (v === null || v === undefined ? '' : formatDay(days[v]?.date ?? '', { year: false })) },
        ...series.map((s, i) => ({
          label: metricDef(s.metric).label,
          scale: scaleOf(metricDef(s.metric).kind),
          stroke: colors.series[i],
          width: 2,
          dash: s.dashed ? [6, 4] : undefined,
          points: { show: days.length <= 31, size: 4, fill: colors.series[i] },
          value: (_u: uPlot, v: number | null) => formatMetric(s.metric, v, currency),
        })),
      ],
      axes: [
        {
          stroke: colors.text,
          grid: { stroke: colors.grid, width: 1 },
          ticks: { stroke: colors.grid, width: 1 },
          incrs: [1, 2, 7, 14, 28, 56, 91],
          space: 48,
          values: (_u, splits) => splits.map((i) => (Number.isInteger(i) ? formatDay(days[i]?.date ?? '', { year: false }) : '')),
        },
        ...kinds.map((kind, i) => ({
          scale: scaleOf(kind),
          side: i === 0 ? 3 : 1,
          size: 64,
          stroke: colors.text,
          grid: { show: i === 0, stroke: colors.grid, width: 1 },
          ticks: { stroke: colors.grid, width: 1 },
          values: (_u: uPlot, splits: number[]) => splits.map((v) => axisValue(kind, v, currency)),
        })),
      ],
      hooks: {
        draw: [(u) => drawMarks(u, marks, series, colors.anomaly, colors.surface)],
        setCursor: [
          (u) => {
            const idx = u.cursor.idx;
            setHover(idx === null || idx === undefined ? null : idx);
          },
        ],
      },
    };
    const plot = new uPlot(options, chartColumns(days, series) as uPlot.AlignedData, el);
    const observer = typeof ResizeObserver === 'function' ? new ResizeObserver(() => plot.setSize({ width: width(), height })) : null;
    observer?.observe(el);
    return () => {
      observer?.disconnect();
      plot.destroy();
    };
  }, [theme, days, series, marks, currency, height]);

  const hoverMarks = hover === null ? [] : marks.filter((m) => m.index === hover);
  return (
    <figure className="chart" aria-labelledby={titleId}>
      <figcaption id={titleId} className="chart-title">
        {title}
      </figcaption>
      {days.length === 0 ? (
        <p className="muted">No days in this period.</p>
      ) : (
        <>
          <div ref={holder} className="chart-canvas" role="img" aria-label={summary} />
          <p className="chart-note" aria-hidden="true">
            {hoverMarks.length > 0 ? (
              <>
                <span className="anomaly-diamond" /> {formatDay(hoverMarks[0]!.date, { year: false })}: {hoverMarks.map((m) => m.sentence).join(' ')}
              </>
            ) : marks.length > 0 ? (
              <>
                <span className="anomaly-diamond" /> marks an anomaly; point at it for what was unusual.
              </>
            ) : (
              '\u00a0'
            )}
          </p>
        </>
      )}
    </figure>
  );
}
