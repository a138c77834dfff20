import { describe, expect, it } from 'vitest';
import { recommendationFixture } from './recommendationFixtures';
import {
  acceptEffect,
  actionWords,
  confidenceWords,
  evidenceFigures,
  factorFigures,
  formatScore,
  recommendationTitle,
  scorePercent,
  splitByDecision,
} from './recommendationWords';

describe('actionWords', () => {
  it('says each action of kpi.recommend as an instruction', () => {
    expect(actionWords('pause')).toBe('Pause the campaign');
    expect(actionWords('increase_budget')).toBe('Raise its budget');
    expect(actionWords('decrease_budget')).toBe('Lower its budget');
    expect(actionWords('refresh_creative')).toBe('Refresh its creative');
    expect(actionWords('review_creative')).toBe('Review its creative');
    expect(actionWords('review_landing_page')).toBe('Review its landing page');
  });

  it('still reads an action it does not know', () => {
    expect(actionWords('split_audience')).toBe('Split audience');
    expect(actionWords('')).toBe('Act on the campaign');
  });
});

describe('recommendationTitle', () => {
  it('names the action and the campaign, or its id when it has no name', () => {
    const rec = recommendationFixture();
    expect(recommendationTitle(rec)).toBe('Pause the campaign: Lookalike - Purchasers 1%');
    expect(recommendationTitle({ ...rec, campaign: { ...rec.campaign, campaign_name: '' } })).toBe('Pause the campaign: c7');
  });
});

describe('confidence', () => {
  it('puts the score into words at 0.75, 0.5 and 0.25', () => {
    expect(confidenceWords(0.83)).toBe('High confidence');
    expect(confidenceWords(0.75)).toBe('High confidence');
    expect(confidenceWords(0.7499)).toBe('Medium confidence');
    expect(confidenceWords(0.5)).toBe('Medium confidence');
    expect(confidenceWords(0.3)).toBe('Low confidence');
    expect(confidenceWords(0.1)).toBe('Very low confidence');
    expect(confidenceWords(Number.NaN)).toBe('Very low confidence');
  });

  it('clamps the bar and rounds the score', () => {
    expect(scorePercent(0.834)).toBe(83);
    expect(scorePercent(1.7)).toBe(100);
    expect(scorePercent(-1)).toBe(0);
    expect(formatScore(0.8312)).toBe('0.83');
  });
});

describe('acceptEffect', () => {
  it('says whether a workflow runs', () => {
    expect(acceptEffect('recommendation-pause')).toBe('Starts the workflow recommendation-pause');
    expect(acceptEffect(null)).toBe('Records your decision; no workflow handles this action');
  });
});

describe('evidenceFigures', () => {
  it('shows money in the currency, ratios as percentages, ROAS as a multiple, unknown keys as numbers', () => {
    const figures = evidenceFigures({ cpa: 50, excess: 0.25, target_roas: 3, days_above: 10, odd_thing: 1.234, frequency_change: null }, 'EUR');
    expect(figures.map((f) => `${f.label}=${f.value}`)).toEqual([
      'CPA=€50.00',
      'Past the target by=25.0%',
      'Target ROAS=3.00×',
      'Days above the target=10',
      'Odd thing=1.23',
      'Frequency change=—',
    ]);
  });

  it('gives the factors as percentages', () => {
    expect(factorFigures({ base_score: 1, sample_adequacy: 0.666, trend_stability: 0.9 }).map((f) => f.value)).toEqual(['100%', '67%', '90%']);
  });
});

describe('splitByDecision', () => {
  it('keeps the order within open and decided', () => {
    const a = recommendationFixture({ id: 'a' });
    const b = recommendationFixture({ id: 'b', decision: { status: 'dismissed', by: 'x', at: 1 } });
    const c = recommendationFixture({ id: 'c' });
    const { open, decided } = splitByDecision([a, b, c]);
    expect(open.map((r) => r.id)).toEqual(['a', 'c']);
    expect(decided.map((r) => r.id)).toEqual(['b']);
  });
});
