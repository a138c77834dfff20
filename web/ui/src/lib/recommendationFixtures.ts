// Answers of the recommendation routes for tests, shaped as the server sends them.
import type { Recommendation, RecommendationList } from '../api/recommendations';

export function recommendationFixture(overrides: Partial<Recommendation> = {}): Recommendation {
  return {
    id: 'r_3f2a01',
    rule: 'pause_high_cpa',
    action: 'pause',
    score: 0.83,
    explanation:
      'CPA of platform meta, account act_1, campaign c7 (Lookalike - Purchasers 1%) in EUR is 50.00, 25% above the target of 40.00 (spend 1000.00 for 20 conversions); it was above target on 10 of 10 days with spend. Pause it, or lower its bids.',
    campaign: { platform: 'meta', account_id: 'act_1', campaign_id: 'c7', campaign_name: 'Lookalike - Purchasers 1%', currency: 'EUR' },
    factors: { base_score: 1, sample_adequacy: 0.83, trend_stability: 1 },
    evidence: { cpa: 50, target_cpa: 40, excess: 0.25, spend: 1000, conversions: 20, days_above: 10, days: 10 },
    workflow: 'recommendation-pause',
    decision: null,
    ...overrides,
  };
}

export function recommendationsFixture(overrides: Partial<RecommendationList> = {}): RecommendationList {
  return {
    period: { since: '2026-10-26', until: '2026-11-22', days: 28 },
    items: [
      recommendationFixture(),
      recommendationFixture({
        id: 'r_9b1c02',
        rule: 'landing_page',
        action: 'review_landing_page',
        score: 0.41,
        explanation: 'CVR of Summer sale is 0.8%, 60% below the benchmark of 2.0%. Review its landing page.',
        campaign: { platform: 'google_ads', account_id: '123-456', campaign_id: 'g2', campaign_name: 'Summer sale', currency: 'EUR' },
        factors: { base_score: 0.6, sample_adequacy: 0.9, trend_stability: 0.76 },
        evidence: { ctr: 0.031, ctr_benchmark: 0.02, cvr: 0.008, cvr_benchmark: 0.02, shortfall: 0.6, clicks: 2400, days_below: 19, days: 25 },
        workflow: null,
      }),
      recommendationFixture({
        id: 'r_77aa03',
        rule: 'scale_high_roas',
        action: 'increase_budget',
        score: 0.35,
        explanation: 'ROAS of Brand search is 6.10×. Raise its budget.',
        campaign: { platform: 'google_ads', account_id: '123-456', campaign_id: 'g1', campaign_name: 'Brand search', currency: 'EUR' },
        workflow: 'recommendation-budget',
        decision: { status: 'dismissed', by: 'ana@example.com', at: Date.UTC(2026, 10, 20, 9, 30), comment: 'Brand is capped on purpose.', run_id: null },
      }),
    ],
    ...overrides,
  };
}
