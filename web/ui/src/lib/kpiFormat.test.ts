import { describe, expect, it } from 'vitest';
import { formatCompact, formatCount, formatDay, formatDeltaPct, formatMoney, formatMultiple, formatRate, formatSpan, NONE, platformName } from './kpiFormat';

describe('kpi formatting', () => {
  it('formats money per currency in major units, with whole units on request', () => {
    expect(formatMoney(1234.5, 'EUR')).toBe('€1,234.50');
    expect(formatMoney(1234.5, 'USD')).toBe('$1,234.50');
    expect(formatMoney(12_345.6, 'EUR', { whole: true })).toBe('€12,346');
    expect(formatMoney(-3, 'GBP')).toBe('-£3.00');
    // Currencies without minor units keep their own digits.
    expect(formatMoney(1500, 'JPY')).toBe('¥1,500');
    // A code Intl does not know still reads.
    expect(formatMoney(2, 'XX1')).toBe('2.00 XX1');
  });

  it('says no value with a dash for null, undefined and non-finite numbers', () => {
    expect(formatMoney(null, 'EUR')).toBe(NONE);
    expect(formatCount(undefined)).toBe(NONE);
    expect(formatMultiple(null)).toBe(NONE);
    expect(formatRate(Number.NaN)).toBe(NONE);
    expect(formatDeltaPct(null)).toBe(NONE);
  });

  it('formats counts (fractional conversions too), ROAS and rates', () => {
    expect(formatCount(1_200_000)).toBe('1,200,000');
    expect(formatCount(12.345)).toBe('12.35');
    expect(formatMultiple(3.245)).toBe('3.25×');
    expect(formatMultiple(0)).toBe('0.00×');
    expect(formatRate(0.0123)).toBe('1.23%');
    expect(formatRate(0.25)).toBe('25.0%');
  });

  it('signs deltas with a real minus and rounds to one decimal (none from 100%)', () => {
    expect(formatDeltaPct(12.5)).toBe('+12.5%');
    expect(formatDeltaPct(-4.7619)).toBe('−4.8%');
    expect(formatDeltaPct(0)).toBe('0.0%');
    expect(formatDeltaPct(0.01)).toBe('0.0%');
    expect(formatDeltaPct(250.4)).toBe('+250%');
  });

  it('writes warehouse days without a time zone shift', () => {
    expect(formatDay('2026-11-22')).toBe('22 Nov 2026');
    expect(formatDay('2026-01-01', { year: false })).toBe('1 Jan');
    expect(formatSpan('2026-10-26', '2026-11-22')).toBe('26 Oct – 22 Nov 2026');
    expect(formatSpan('2025-12-20', '2026-01-02')).toBe('20 Dec 2025 – 2 Jan 2026');
    expect(formatSpan('2026-11-22', '2026-11-22')).toBe('22 Nov 2026');
    expect(formatDay('not a day')).toBe('not a day');
  });

  it('shortens axis labels and names platforms', () => {
    expect(formatCompact(12_000)).toBe('12K');
    expect(formatCompact(1_250_000, 'EUR')).toBe('€1.3M');
    expect(platformName('google_ads')).toBe('Google Ads');
    expect(platformName('meta')).toBe('Meta');
    expect(platformName('snap_ads')).toBe('Snap ads');
  });
});
