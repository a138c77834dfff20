// The dashboard's period and platform, kept in the page's query string: ?range=7, or
// ?since=2026-10-01&until=2026-10-31 for custom dates, plus &platform=meta. The preset ranges end
// on the newest day in the warehouse (as the server's default of 28 days does), not on today.
import type { KpiQuery } from '../api/kpis';

export const PRESET_RANGES = [7, 14, 28, 90] as const;
export type PresetRange = (typeof PRESET_RANGES)[number];
export const DEFAULT_RANGE: PresetRange = 28;

export type PeriodSelection =
  | { kind: 'preset'; days: PresetRange; platform?: string }
  | { kind: 'custom'; since: string; until: string; platform?: string };

const DAY_MS = 86_400_000;

/** A real calendar day written YYYY-MM-DD. */
export function isIsoDate(value: string | null | undefined): value is string {
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const time = Date.parse(`${value}T00:00:00Z`);
  return Number.isFinite(time) && new Date(time).toISOString().slice(0, 10) === value;
}

export function addDays(iso: string, days: number): string {
  return new Date(Date.parse(`${iso}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Days from since to until, both counted. */
export function spanDays(since: string, until: string): number {
  return Math.round((Date.parse(`${until}T00:00:00Z`) - Date.parse(`${since}T00:00:00Z`)) / DAY_MS) + 1;
}

function cleanPlatform(value: string | null): string | undefined {
  return value && /^[a-z0-9_-]{1,64}$/i.test(value) ? value : undefined;
}

export function selectionFromSearch(search: URLSearchParams): PeriodSelection {
  const platform = cleanPlatform(search.get('platform'));
  const since = search.get('since');
  const until = search.get('until');
  if (isIsoDate(since) && isIsoDate(until)) return { kind: 'custom', since, until, platform };
  const days = Number(search.get('range'));
  const preset = PRESET_RANGES.find((n) => n === days) ?? DEFAULT_RANGE;
  return { kind: 'preset', days: preset, platform };
}

/** The query string for the page (without the "?"); the default range is left out. */
export function searchFromSelection(selection: PeriodSelection): string {
  const params = new URLSearchParams();
  if (selection.kind === 'custom') {
    params.set('since', selection.since);
    params.set('until', selection.until);
  } else if (selection.days !== DEFAULT_RANGE) {
    params.set('range', String(selection.days));
  }
  if (selection.platform) params.set('platform', selection.platform);
  return params.toString();
}

export function dashboardHref(selection: PeriodSelection): string {
  const qs = searchFromSelection(selection);
  return qs ? `/dashboard?${qs}` : '/dashboard';
}

/**
 * The API query for a selection. A preset other than the server's default needs the newest day
 * in the warehouse: without it (`latestDate` undefined) the answer is null, meaning "ask without
 * dates first, then again with the dates".
 */
export function apiQuery(selection: PeriodSelection, latestDate: string | null | undefined): KpiQuery | null {
  const platform = selection.platform;
  if (selection.kind === 'custom') return { since: selection.since, until: selection.until, platform };
  if (selection.days === DEFAULT_RANGE) return { platform };
  if (latestDate === undefined) return null;
  // An empty warehouse: nothing to end on, the server's default answers just as well.
  if (latestDate === null) return { platform };
  return { since: addDays(latestDate, -(selection.days - 1)), until: latestDate, platform };
}

export interface CustomErrors {
  since?: string;
  until?: string;
}

/** Checks custom dates before they go to the URL. */
export function checkCustomDates(since: string, until: string): CustomErrors {
  const errors: CustomErrors = {};
  if (!isIsoDate(since)) errors.since = 'Enter the first day as a date.';
  if (!isIsoDate(until)) errors.until = 'Enter the last day as a date.';
  if (!errors.since && !errors.until) {
    if (since > until) errors.until = 'The last day must not be before the first day.';
    else if (spanDays(since, until) > 366) errors.until = 'Choose at most 366 days.';
  }
  return errors;
}

export function describeSelection(selection: PeriodSelection): string {
  return selection.kind === 'custom' ? 'Custom dates' : `Last ${selection.days} days`;
}
