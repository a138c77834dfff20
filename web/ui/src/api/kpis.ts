// Typed calls of the KPI routes (runs:read). Amounts are in major units; a ratio is null when its
// denominator is 0; delta_pct is a percentage (12.5 is +12.5 %). Amounts in different currencies
// are never added: the answers are per currency.
import { api } from './client';

export interface Period {
  since: string;
  until: string;
  days: number;
}

export interface PreviousPeriod {
  since: string;
  until: string;
}

export interface KpiTotals {
  spend: number;
  revenue: number;
  conversions: number;
  impressions: number;
  clicks: number;
  customers: number;
  roas: number | null;
  cpa: number | null;
  cac: number | null;
  ctr: number | null;
  cvr: number | null;
  cpc: number | null;
}

export interface KpiChange {
  value: number | null;
  previous: number | null;
  delta: number | null;
  delta_pct: number | null;
}

export type KpiChanges = Partial<Record<string, KpiChange>>;

export interface KpiDay {
  date: string;
  spend: number;
  revenue: number;
  conversions: number;
  impressions: number;
  clicks: number;
  roas: number | null;
  cpa: number | null;
  ctr: number | null;
}

export interface KpiAnomaly {
  date: string;
  metric: string;
  value: number;
  expected: number;
  low: number;
  high: number;
  z: number;
  direction: 'up' | 'down';
  sentence: string;
}

export interface CurrencyKpis {
  currency: string;
  totals: KpiTotals;
  previous: KpiTotals | null;
  changes: KpiChanges;
  days: KpiDay[];
  anomalies: KpiAnomaly[];
}

export interface KpiSummary {
  period: Period;
  previous: PreviousPeriod;
  /** The newest day in the warehouse; null when it holds no data at all. */
  latest_date: string | null;
  platforms: string[];
  currencies: CurrencyKpis[];
}

export interface CampaignRow {
  platform: string;
  account_id: string;
  campaign_id: string;
  campaign_name: string;
  currency: string;
  /** Last recorded by a sync or a pause: active, paused, removed, archived; null when never recorded. */
  status: CampaignStatus | null;
  spend: number;
  revenue: number;
  conversions: number;
  impressions: number;
  clicks: number;
  roas: number | null;
  cpa: number | null;
  ctr: number | null;
  cvr: number | null;
  changes: KpiChanges;
}

export interface CampaignList {
  period: Period;
  previous: PreviousPeriod;
  items: CampaignRow[];
}

export type CampaignStatus = 'active' | 'paused' | 'removed' | 'archived' | (string & {});

export interface CampaignRef {
  platform: string;
  account_id: string;
  campaign_id: string;
  campaign_name: string;
  currency: string;
}

export interface Funnel {
  impressions: number;
  clicks: number;
  conversions: number;
  ctr: number | null;
  cvr: number | null;
}

export interface CampaignDetail {
  campaign: CampaignRef & { status: CampaignStatus | null };
  period: Period;
  totals: KpiTotals;
  funnel: Funnel;
  days: KpiDay[];
  anomalies: KpiAnomaly[];
}

/** since/until are YYYY-MM-DD; all optional (the server then takes the 28 days up to its newest day). */
export interface KpiQuery {
  since?: string;
  until?: string;
  platform?: string;
}

const enc = encodeURIComponent;

export const kpisApi = {
  summary: (query: KpiQuery, signal?: AbortSignal) => api.get<KpiSummary>('/kpis', { ...query }, signal),
  campaigns: (query: KpiQuery, signal?: AbortSignal) => api.get<CampaignList>('/kpis/campaigns', { ...query }, signal),
  campaign: (ref: Pick<CampaignRef, 'platform' | 'account_id' | 'campaign_id'>, query: Omit<KpiQuery, 'platform'>, signal?: AbortSignal) =>
    api.get<CampaignDetail>(
      `/kpis/campaigns/${enc(ref.platform)}/${enc(ref.account_id)}/${enc(ref.campaign_id)}`,
      { since: query.since, until: query.until },
      signal,
    ),
};
