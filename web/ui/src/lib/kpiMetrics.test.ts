import { describe, expect, it } from 'vitest';
import type { KpiChange } from '../api/kpis';
import { deltaDirection, deltaSentence, deltaShort, deltaTone, formatMetric } from './kpiMetrics';

const up: KpiChange = { value: 120, previous: 100, delta: 20, delta_pct: 20 };
const down: KpiChange = { value: 80, previous: 100, delta: -20, delta_pct: -20 };
const flat: KpiChange = { value: 100, previous: 100, delta: 0, delta_pct: 0 };
const fromZero: KpiChange = { value: 50, previous: 0, delta: 50, delta_pct: null };
const noPrevious: KpiChange = { value: 50, previous: null, delta: null, delta_pct: null };

describe('delta tone per metric', () => {
  it('treats spend moving either way as neutral', () => {
    expect(deltaTone('spend', up)).toBe('neutral');
    expect(deltaTone('spend', down)).toBe('neutral');
  });

  it('calls revenue, ROAS and conversions going up good and going down bad', () => {
    for (const metric of ['revenue', 'roas', 'conversions', 'ctr', 'cvr']) {
      expect(deltaTone(metric, up)).toBe('good');
      expect(deltaTone(metric, down)).toBe('bad');
    }
  });

  it('calls CPA, CAC and CPC going up bad and going down good', () => {
    for (const metric of ['cpa', 'cac', 'cpc']) {
      expect(deltaTone(metric, up)).toBe('bad');
      expect(deltaTone(metric, down)).toBe('good');
    }
  });

  it('is neutral without a move or without a previous period', () => {
    expect(deltaTone('cpa', flat)).toBe('neutral');
    expect(deltaTone('roas', noPrevious)).toBe('neutral');
    expect(deltaTone('roas', undefined)).toBe('neutral');
    // Up from nothing is still up.
    expect(deltaTone('revenue', fromZero)).toBe('good');
  });

  it('reads a move that rounds to 0.0% as unchanged', () => {
    expect(deltaDirection({ value: 100.01, previous: 100, delta: 0.01, delta_pct: 0.01 })).toBe('flat');
    expect(deltaDirection(flat)).toBe('flat');
    expect(deltaDirection(noPrevious)).toBe('none');
    expect(deltaDirection(down)).toBe('down');
  });
});

describe('delta wording', () => {
  it('says the move, the previous value and the verdict', () => {
    expect(deltaSentence('cpa', up, 'EUR')).toBe('CPA up 20.0% from €100.00 in the previous period. That is worse.');
    expect(deltaSentence('roas', { value: 3.2, previous: 4, delta: -0.8, delta_pct: -20 }, 'EUR')).toBe(
      'ROAS down 20.0% from 4.00× in the previous period. That is worse.',
    );
    expect(deltaSentence('conversions', up, 'EUR')).toBe('Conversions up 20.0% from 100 in the previous period. That is better.');
    expect(deltaSentence('cac', down, 'USD')).toBe('CAC down 20.0% from $100.00 in the previous period. That is better.');
  });

  it('gives spend no verdict', () => {
    expect(deltaSentence('spend', up, 'EUR')).toBe('Spend up 20.0% from €100.00 in the previous period.');
  });

  it('handles unchanged, from zero and no previous period', () => {
    expect(deltaSentence('revenue', flat, 'EUR')).toBe('Revenue unchanged from €100.00 in the previous period.');
    expect(deltaSentence('revenue', fromZero, 'EUR')).toBe('Revenue up from €0.00 in the previous period. That is better.');
    expect(deltaSentence('revenue', noPrevious, 'EUR')).toBe('Revenue: no previous period to compare with.');
  });

  it('has a short visible form', () => {
    expect(deltaShort(up)).toBe('+20.0%');
    expect(deltaShort(down)).toBe('−20.0%');
    expect(deltaShort(flat)).toBe('0.0%');
    expect(deltaShort(fromZero)).toBe('up from 0');
  });

  it('formats each metric by its kind', () => {
    expect(formatMetric('spend', 5, 'EUR')).toBe('€5.00');
    expect(formatMetric('roas', 2.5, 'EUR')).toBe('2.50×');
    expect(formatMetric('ctr', 0.015, 'EUR')).toBe('1.50%');
    expect(formatMetric('clicks', 1234, 'EUR')).toBe('1,234');
  });
});
