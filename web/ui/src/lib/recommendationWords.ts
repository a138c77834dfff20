// Recommendations in words: the action as an instruction, the score as a confidence, what Accept
// does, and the figures behind a recommendation (its evidence) with their units.
import type { Recommendation } from '../api/recommendations';
import { formatCount, formatMoney, formatMultiple, formatRate, NONE, platformName } from './kpiFormat';

const ACTION_WORDS: Record<string, string> = {
  pause: 'Pause the campaign',
  increase_budget: 'Raise its budget',
  decrease_budget: 'Lower its budget',
  refresh_creative: 'Refresh its creative',
  review_creative: 'Review its creative',
  review_landing_page: 'Review its landing page',
};

/** pause → "Pause the campaign"; an action this UI does not know is shown with its underscores as spaces. */
export function actionWords(action: string): string {
  const known = ACTION_WORDS[action];
  if (known) return known;
  const words = action.replace(/_/g, ' ').trim();
  return words ? words.charAt(0).toUpperCase() + words.slice(1) : 'Act on the campaign';
}

export function campaignLabel(rec: Pick<Recommendation, 'campaign'>): string {
  return rec.campaign.campaign_name || rec.campaign.campaign_id;
}

/** The name of a recommendation's card: "Pause the campaign: Lookalike - Purchasers 1%". */
export function recommendationTitle(rec: Pick<Recommendation, 'action' | 'campaign'>): string {
  return `${actionWords(rec.action)}: ${campaignLabel(rec)}`;
}

export type ConfidenceLevel = 'high' | 'medium' | 'low' | 'very-low';

/** The score (0 to 1) as a confidence: high from 0.75, medium from 0.5, low from 0.25. */
export function confidenceLevel(score: number): ConfidenceLevel {
  if (!Number.isFinite(score)) return 'very-low';
  if (score >= 0.75) return 'high';
  if (score >= 0.5) return 'medium';
  if (score >= 0.25) return 'low';
  return 'very-low';
}

const CONFIDENCE_WORDS: Record<ConfidenceLevel, string> = {
  high: 'High confidence',
  medium: 'Medium confidence',
  low: 'Low confidence',
  'very-low': 'Very low confidence',
};

export function confidenceWords(score: number): string {
  return CONFIDENCE_WORDS[confidenceLevel(score)];
}

/** The score clamped to 0..1 as a whole percentage, for the bar. */
export function scorePercent(score: number): number {
  if (!Number.isFinite(score)) return 0;
  return Math.round(Math.min(1, Math.max(0, score)) * 100);
}

/** 0.8312 → "0.83". */
export function formatScore(score: number): string {
  return Number.isFinite(score) ? score.toFixed(2) : NONE;
}

/** What pressing Accept does, in words (the workflow's id is linked by the card). */
export function acceptEffect(workflow: string | null): string {
  return workflow ? `Starts the workflow ${workflow}` : 'Records your decision; no workflow handles this action';
}

export function platformAndIds(rec: Pick<Recommendation, 'campaign'>): string {
  const c = rec.campaign;
  return `${platformName(c.platform)} · account ${c.account_id} · campaign ${c.campaign_id} · ${c.currency}`;
}

/** Open ones (no decision yet) and decided ones, each keeping the server's order (highest score first). */
export function splitByDecision<T extends Pick<Recommendation, 'decision'>>(items: readonly T[]): { open: T[]; decided: T[] } {
  const open: T[] = [];
  const decided: T[] = [];
  for (const item of items) (item.decision ? decided : open).push(item);
  return { open, decided };
}

type Unit = 'money' | 'multiple' | 'rate' | 'count' | 'number';

const EVIDENCE: Record<string, { label: string; unit: Unit }> = {
  cpa: { label: 'CPA', unit: 'money' },
  target_cpa: { label: 'Target CPA', unit: 'money' },
  roas: { label: 'ROAS', unit: 'multiple' },
  target_roas: { label: 'Target ROAS', unit: 'multiple' },
  spend: { label: 'Spend', unit: 'money' },
  revenue: { label: 'Revenue', unit: 'money' },
  daily_budget: { label: 'Daily budget', unit: 'money' },
  spend_threshold: { label: 'Spend threshold', unit: 'money' },
  excess: { label: 'Past the target by', unit: 'rate' },
  shortfall: { label: 'Short of the target by', unit: 'rate' },
  decline: { label: 'CTR decline', unit: 'rate' },
  budget_utilization: { label: 'Budget used', unit: 'rate' },
  ctr: { label: 'CTR', unit: 'rate' },
  ctr_benchmark: { label: 'CTR benchmark', unit: 'rate' },
  ctr_start: { label: 'CTR at the start', unit: 'rate' },
  ctr_end: { label: 'CTR at the end', unit: 'rate' },
  slope_per_day: { label: 'CTR change per day', unit: 'rate' },
  cvr: { label: 'CVR', unit: 'rate' },
  cvr_benchmark: { label: 'CVR benchmark', unit: 'rate' },
  impressions_cv: { label: 'Variation of daily impressions', unit: 'rate' },
  frequency_change: { label: 'Frequency change', unit: 'rate' },
  r_squared: { label: 'Fit of the trend (R²)', unit: 'number' },
  conversions: { label: 'Conversions', unit: 'count' },
  expected_conversions: { label: 'Expected conversions', unit: 'count' },
  clicks: { label: 'Clicks', unit: 'count' },
  impressions: { label: 'Impressions', unit: 'count' },
  days: { label: 'Days', unit: 'count' },
  days_above: { label: 'Days above the target', unit: 'count' },
  days_below: { label: 'Days below the target', unit: 'count' },
  days_with_spend: { label: 'Days with spend', unit: 'count' },
};

export interface EvidenceFigure {
  key: string;
  label: string;
  value: string;
}

function humanKey(key: string): string {
  const words = key.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The evidence as labelled figures, in the server's order; money in the campaign's currency. */
export function evidenceFigures(evidence: Readonly<Record<string, unknown>> | null | undefined, currency: string): EvidenceFigure[] {
  const out: EvidenceFigure[] = [];
  for (const [key, raw] of Object.entries(evidence ?? {})) {
    if (raw !== null && typeof raw !== 'number') continue;
    const def = EVIDENCE[key] ?? { label: humanKey(key), unit: 'number' as Unit };
    const value = raw as number | null;
    let text: string;
    switch (def.unit) {
      case 'money':
        text = formatMoney(value, currency);
        break;
      case 'multiple':
        text = formatMultiple(value);
        break;
      case 'rate':
        text = formatRate(value);
        break;
      default:
        text = formatCount(value);
    }
    out.push({ key, label: def.label, value: text });
  }
  return out;
}

/** The three factors of the score as percentages, in words. */
export function factorFigures(factors: Recommendation['factors'] | null | undefined): EvidenceFigure[] {
  if (!factors) return [];
  return [
    { key: 'base_score', label: 'How far past the threshold', value: `${scorePercent(factors.base_score)}%` },
    { key: 'sample_adequacy', label: 'Enough data', value: `${scorePercent(factors.sample_adequacy)}%` },
    { key: 'trend_stability', label: 'Holds through the period', value: `${scorePercent(factors.trend_stability)}%` },
  ];
}

export function decisionWords(status: 'accepted' | 'dismissed'): string {
  return status === 'accepted' ? 'Accepted' : 'Dismissed';
}
