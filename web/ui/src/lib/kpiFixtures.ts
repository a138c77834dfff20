// Answers of the KPI routes for tests, shaped as the server sends them.
import type { CampaignDetail, CampaignList, CampaignRow, KpiDay, KpiSummary, KpiTotals } from '../api/kpis';
import { addDays } from './kpiPeriod';

export function fixtureDays(since: string, count: number): KpiDay[] {
  return Array.from({ length: count }, (_, i) => {
    const spend = 100 + i * 10;
    const conversions = i === 3 ? 0 : 4 + (i % 3);
    const revenue = spend * 3;
    return {
      date: addDays(since, i),
      spend,
      revenue,
      conversions,
      impressions: 10_000 + i * 100,
      clicks: 200 + i,
      roas: revenue / spend,
      cpa: conversions === 0 ? null : spend / conversions,
      ctr: (200 + i) / (10_000 + i * 100),
    };
  });
}

export const eurTotals: KpiTotals = {
  spend: 12_345.6,
  revenue: 40_000,
  conversions: 420,
  impressions: 1_200_000,
  clicks: 24_000,
  customers: 300,
  roas: 3.24,
  cpa: 29.39,
  cac: 41.15,
  ctr: 0.02,
  cvr: 0.0175,
  cpc: 0.51,
};

export const eurPrevious: KpiTotals = {
  ...eurTotals,
  spend: 10_000,
  revenue: 42_000,
  conversions: 400,
  roas: 4.2,
  cpa: 25,
  cac: 41.15,
};

export function summaryFixture(overrides: Partial<KpiSummary> = {}): KpiSummary {
  const since = '2026-10-26';
  return {
    period: { since, until: '2026-11-22', days: 28 },
    previous: { since: '2026-09-28', until: '2026-10-25' },
    latest_date: '2026-11-22',
    platforms: ['google_ads', 'meta'],
    currencies: [
      {
        currency: 'EUR',
        totals: eurTotals,
        previous: eurPrevious,
        changes: {
          spend: { value: 12_345.6, previous: 10_000, delta: 2_345.6, delta_pct: 23.456 },
          revenue: { value: 40_000, previous: 42_000, delta: -2_000, delta_pct: -4.7619 },
          roas: { value: 3.24, previous: 4.2, delta: -0.96, delta_pct: -22.857 },
          cac: { value: 41.15, previous: 41.15, delta: 0, delta_pct: 0 },
          cpa: { value: 29.39, previous: 25, delta: 4.39, delta_pct: 17.56 },
          conversions: { value: 420, previous: 400, delta: 20, delta_pct: 5 },
        },
        days: fixtureDays(since, 28),
        anomalies: [
          {
            date: '2026-11-14',
            metric: 'spend',
            value: 290,
            expected: 180,
            low: 150,
            high: 210,
            z: 3.4,
            direction: 'up',
            sentence: 'Spend on 14 Nov was €290.00, above its usual €150.00 to €210.00.',
          },
        ],
      },
    ],
    ...overrides,
  };
}

function campaign(name: string, id: string, values: Partial<CampaignRow>): CampaignRow {
  return {
    platform: 'meta',
    account_id: 'act_1',
    campaign_id: id,
    campaign_name: name,
    currency: 'EUR',
    status: 'active',
    spend: 100,
    revenue: 300,
    conversions: 10,
    impressions: 10_000,
    clicks: 200,
    roas: 3,
    cpa: 10,
    ctr: 0.02,
    cvr: 0.05,
    changes: {},
    ...values,
  };
}

export const campaignRows: CampaignRow[] = [
  campaign('Brand search', 'c1', { platform: 'google_ads', account_id: '123-456', spend: 500, roas: 5, cpa: 12.5, conversions: 40 }),
  campaign('Retargeting', 'c2', { spend: 300, roas: 2, cpa: 30, conversions: 10 }),
  campaign('Prospecting', 'c3', { spend: 800, revenue: 0, roas: 0, cpa: null, conversions: 0 }),
  campaign('Lookalike', 'c4', { spend: 0, revenue: 0, roas: null, cpa: null, conversions: 0, status: 'paused' }),
  campaign('Summer sale', 'c5', { spend: 200, roas: 8, cpa: 8, conversions: 25, status: null }),
];

export function campaignsFixture(): CampaignList {
  return {
    period: { since: '2026-10-26', until: '2026-11-22', days: 28 },
    previous: { since: '2026-09-28', until: '2026-10-25' },
    items: campaignRows,
  };
}

export function campaignDetailFixture(): CampaignDetail {
  const days = fixtureDays('2026-10-26', 28);
  return {
    campaign: { platform: 'meta', account_id: 'act_1', campaign_id: 'c5', campaign_name: 'Summer sale', currency: 'EUR', status: 'paused' },
    period: { since: '2026-10-26', until: '2026-11-22', days: 28 },
    totals: { ...eurTotals, spend: 200, revenue: 1_600, conversions: 25, roas: 8, cpa: 8 },
    funnel: { impressions: 50_000, clicks: 1_000, conversions: 25, ctr: 0.02, cvr: 0.025 },
    days,
    anomalies: [
      {
        date: '2026-11-02',
        metric: 'cpa',
        value: 40,
        expected: 9,
        low: 6,
        high: 12,
        z: 4.1,
        direction: 'up',
        sentence: 'CPA on 2 Nov was €40.00, above its usual €6.00 to €12.00.',
      },
    ],
  };
}
