import { describe, expect, it } from 'vitest';
import { addDays, apiQuery, checkCustomDates, dashboardHref, isIsoDate, searchFromSelection, selectionFromSearch, spanDays } from './kpiPeriod';

const sel = (qs: string) => selectionFromSearch(new URLSearchParams(qs));

describe('dashboard period in the URL', () => {
  it('reads presets, custom dates and the platform', () => {
    expect(sel('')).toEqual({ kind: 'preset', days: 28, platform: undefined });
    expect(sel('range=7&platform=meta')).toEqual({ kind: 'preset', days: 7, platform: 'meta' });
    expect(sel('since=2026-10-01&until=2026-10-31')).toEqual({ kind: 'custom', since: '2026-10-01', until: '2026-10-31', platform: undefined });
  });

  it('falls back to the default for what it cannot read', () => {
    expect(sel('range=5')).toEqual({ kind: 'preset', days: 28, platform: undefined });
    expect(sel('since=2026-02-30&until=2026-03-01')).toEqual({ kind: 'preset', days: 28, platform: undefined });
    expect(sel('since=2026-10-01')).toEqual({ kind: 'preset', days: 28, platform: undefined });
    expect(sel('platform=<script>').platform).toBeUndefined();
  });

  it('writes the query back, leaving the default out', () => {
    expect(searchFromSelection({ kind: 'preset', days: 28 })).toBe('');
    expect(dashboardHref({ kind: 'preset', days: 28 })).toBe('/dashboard');
    expect(dashboardHref({ kind: 'preset', days: 90, platform: 'google_ads' })).toBe('/dashboard?range=90&platform=google_ads');
    expect(dashboardHref({ kind: 'custom', since: '2026-10-01', until: '2026-10-31' })).toBe('/dashboard?since=2026-10-01&until=2026-10-31');
    for (const qs of ['range=14&platform=meta', 'since=2026-01-01&until=2026-01-31&platform=meta']) {
      expect(searchFromSelection(sel(qs))).toBe(qs);
    }
  });
});

describe('API query of a selection', () => {
  it('ends presets on the newest day in the warehouse', () => {
    expect(apiQuery({ kind: 'preset', days: 7, platform: 'meta' }, '2026-11-22')).toEqual({ since: '2026-11-16', until: '2026-11-22', platform: 'meta' });
    expect(apiQuery({ kind: 'preset', days: 90 }, '2026-03-01')).toEqual({ since: '2025-12-02', until: '2026-03-01', platform: undefined });
  });

  it('leaves the default to the server and asks first when the newest day is unknown', () => {
    expect(apiQuery({ kind: 'preset', days: 28 }, undefined)).toEqual({ platform: undefined });
    expect(apiQuery({ kind: 'preset', days: 14 }, undefined)).toBeNull();
    expect(apiQuery({ kind: 'preset', days: 14 }, null)).toEqual({ platform: undefined });
  });

  it('sends custom dates as they are', () => {
    expect(apiQuery({ kind: 'custom', since: '2026-10-01', until: '2026-10-31', platform: 'google_ads' }, '2026-11-22')).toEqual({
      since: '2026-10-01',
      until: '2026-10-31',
      platform: 'google_ads',
    });
  });
});

describe('dates', () => {
  it('checks and counts calendar days', () => {
    expect(isIsoDate('2028-02-29')).toBe(true);
    expect(isIsoDate('2026-02-29')).toBe(false);
    expect(isIsoDate('2026-1-01')).toBe(false);
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('2026-10-24', 7)).toBe('2026-10-31');
    expect(spanDays('2026-10-01', '2026-10-31')).toBe(31);
  });

  it('refuses custom dates out of order, missing or too long', () => {
    expect(checkCustomDates('2026-10-01', '2026-10-31')).toEqual({});
    expect(checkCustomDates('2026-10-31', '2026-10-01').until).toMatch(/not be before/);
    expect(checkCustomDates('', '2026-10-01').since).toBeTruthy();
    expect(checkCustomDates('2024-01-01', '2026-01-01').until).toMatch(/366/);
  });
});
