// Typed calls of the recommendation routes: GET needs runs:read, accept and dismiss need runs:write.
// They take the same period query as /api/v1/kpis; accept and dismiss must be sent the query the
// list was read with, since a recommendation is made for a period (404 when the data changed and
// it is no longer made, 409 when it was already decided).
import { api, request } from './client';
import type { CampaignRef, KpiQuery, Period } from './kpis';

export type RecommendationAction =
  | 'pause'
  | 'increase_budget'
  | 'decrease_budget'
  | 'refresh_creative'
  | 'review_creative'
  | 'review_landing_page';

export interface RecommendationDecision {
  status: 'accepted' | 'dismissed';
  /** The email of who decided. */
  by: string;
  /** Milliseconds since the epoch. */
  at: number;
  comment?: string | null;
  run_id?: string | null;
}

export interface RecommendationFactors {
  base_score: number;
  sample_adequacy: number;
  trend_stability: number;
}

export interface Recommendation {
  id: string;
  rule: string;
  /** One of RecommendationAction; a newer server may add others. */
  action: RecommendationAction | (string & {});
  /** In [0, 1]: base_score × sample_adequacy × trend_stability. */
  score: number;
  explanation: string;
  campaign: CampaignRef;
  factors: RecommendationFactors;
  evidence: Record<string, number | null>;
  /** The workflow that Accept starts; null when accepting only records the decision. */
  workflow: string | null;
  decision: RecommendationDecision | null;
}

export interface RecommendationList {
  period: Period | null;
  /** Highest score first. */
  items: Recommendation[];
}

export interface AcceptAnswer {
  id: string;
  decision: RecommendationDecision;
  run_id: string | null;
}

export interface DismissAnswer {
  id: string;
  decision: RecommendationDecision;
}

const enc = encodeURIComponent;

function decisionBody(comment: string): { comment?: string } {
  const text = comment.trim();
  return text ? { comment: text } : {};
}

export const recommendationsApi = {
  list: (query: KpiQuery, signal?: AbortSignal) => api.get<RecommendationList>('/recommendations', { ...query }, signal),
  accept: (id: string, query: KpiQuery, comment = '') =>
    request<AcceptAnswer>('POST', `/recommendations/${enc(id)}/accept`, { query: { ...query }, body: decisionBody(comment) }),
  dismiss: (id: string, query: KpiQuery, comment = '') =>
    request<DismissAnswer>('POST', `/recommendations/${enc(id)}/dismiss`, { query: { ...query }, body: decisionBody(comment) }),
};
