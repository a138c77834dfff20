import { useEffect, useId, useRef, useState, type Ref } from 'react';
import { ApiError } from '../api/client';
import type { KpiQuery } from '../api/kpis';
import { recommendationsApi, type AcceptAnswer, type Recommendation, type RecommendationDecision } from '../api/recommendations';
import { usePermission } from '../auth/session';
import {
  acceptEffect,
  confidenceLevel,
  confidenceWords,
  evidenceFigures,
  factorFigures,
  formatScore,
  platformAndIds,
  recommendationTitle,
  scorePercent,
} from '../lib/recommendationWords';
import { toApiError } from '../lib/useAsync';
import { Link } from '../router/Link';
import { paths } from '../router/paths';
import { DecisionComment } from './DecisionComment';
import { ProblemAlert } from './ProblemAlert';

export type DecisionKind = 'accept' | 'dismiss';

export interface RecommendationCardProps {
  rec: Recommendation;
  /** The period query the list was read with: a decision is sent with the same one. */
  query: KpiQuery;
  /** Set once this card's Accept went through: the card then shows the run it started. */
  accepted?: AcceptAnswer;
  onDecided: (rec: Recommendation, kind: DecisionKind, decision: RecommendationDecision, runId: string | null) => void;
  /** 404 (no longer made for the period) or 409 (already decided): the list is out of date. */
  onStale: (rec: Recommendation, kind: DecisionKind, error: ApiError) => void;
  ref?: Ref<HTMLElement>;
}

/** The run an accepted recommendation started, or that the decision is only recorded. */
export function AcceptedNote({ runId, canSeeRuns = true }: { runId: string | null; canSeeRuns?: boolean }) {
  if (!runId) return <>Accepted — your decision is recorded.</>;
  return (
    <>
      Accepted — run{' '}
      {canSeeRuns ? (
        <Link to={paths.run(runId)} className="mono">
          {runId}
        </Link>
      ) : (
        <span className="mono">{runId}</span>
      )}{' '}
      started.
    </>
  );
}

export function ConfidenceBar({ score }: { score: number }) {
  const pct = scorePercent(score);
  return (
    <p className={`reco-confidence reco-confidence-${confidenceLevel(score)}`}>
      <span className="reco-confidence-words">{confidenceWords(score)}</span>
      <span className="reco-bar" aria-hidden="true">
        <span className="reco-bar-fill" style={{ width: `${pct}%` }} />
      </span>
      <span className="muted small">score {formatScore(score)}</span>
    </p>
  );
}

/** One open recommendation: what to do to which campaign, how sure, why, what Accept does, and
 * (with runs:write) a comment with Accept and Dismiss. */
export function RecommendationCard({ rec, query, accepted, onDecided, onStale, ref }: RecommendationCardProps) {
  const canDecide = usePermission('runs:write');
  const canSeeWorkflows = usePermission('workflows:read');
  const canSeeRuns = usePermission('runs:read');
  const headingId = useId();
  const effectId = useId();
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState<DecisionKind | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const acceptedRef = useRef<HTMLParagraphElement>(null);
  const title = recommendationTitle(rec);

  // Keyboard users keep their place: the buttons they pressed are gone, the result takes focus.
  useEffect(() => {
    if (accepted) acceptedRef.current?.focus();
  }, [accepted]);

  const decide = async (kind: DecisionKind) => {
    if (busy) return;
    setBusy(kind);
    setError(null);
    try {
      if (kind === 'accept') {
        const answer = await recommendationsApi.accept(rec.id, query, comment);
        onDecided(rec, kind, answer.decision, answer.run_id ?? answer.decision.run_id ?? null);
      } else {
        const answer = await recommendationsApi.dismiss(rec.id, query, comment);
        onDecided(rec, kind, answer.decision, null);
      }
    } catch (err) {
      const apiError = toApiError(err);
      setBusy(null);
      if (apiError.status === 404 || apiError.status === 409) onStale(rec, kind, apiError);
      else setError(apiError);
    }
  };

  const commentErrors = error?.fieldErrors('comment') ?? [];
  const figures = [...evidenceFigures(rec.evidence, rec.campaign.currency), ...factorFigures(rec.factors)];

  return (
    <article className="reco" aria-labelledby={headingId} ref={ref} tabIndex={-1}>
      <header className="reco-head">
        <h3 id={headingId}>{title}</h3>
        <p className="muted small">{platformAndIds(rec)}</p>
      </header>
      <ConfidenceBar score={rec.score} />
      <p className="reco-explanation">{rec.explanation}</p>
      {figures.length > 0 && (
        <details className="reco-figures">
          <summary>The figures behind it</summary>
          <dl>
            {figures.map((f) => (
              <div key={f.key}>
                <dt>{f.label}</dt>
                <dd>{f.value}</dd>
              </div>
            ))}
          </dl>
        </details>
      )}

      {accepted ? (
        <p className="alert alert-success reco-result" ref={acceptedRef} tabIndex={-1}>
          <AcceptedNote runId={accepted.run_id ?? accepted.decision.run_id ?? null} canSeeRuns={canSeeRuns} />
        </p>
      ) : (
        <>
          <p className="reco-effect" id={effectId}>
            <strong>Accept:</strong>{' '}
            {rec.workflow ? (
              <>
                Starts the workflow{' '}
                {canSeeWorkflows ? (
                  <Link to={paths.workflow(rec.workflow)} className="mono">
                    {rec.workflow}
                  </Link>
                ) : (
                  <code>{rec.workflow}</code>
                )}
              </>
            ) : (
              acceptEffect(null)
            )}
            .
          </p>
          {canDecide ? (
            <form className="reco-form" onSubmit={(e) => e.preventDefault()} aria-busy={busy !== null || undefined}>
              <DecisionComment value={comment} onChange={setComment} errors={commentErrors} />
              {error && commentErrors.length === 0 && (
                <ProblemAlert error={error} action="Could not record the decision" />
              )}
              <div className="button-row">
                <button
                  type="button"
                  className="button button-primary"
                  aria-describedby={effectId}
                  aria-disabled={busy !== null || undefined}
                  onClick={() => void decide('accept')}
                >
                  Accept
                </button>
                <button type="button" className="button" aria-disabled={busy !== null || undefined} onClick={() => void decide('dismiss')}>
                  Dismiss
                </button>
                {busy && (
                  <span className="muted small" role="status">
                    {busy === 'accept' ? 'Accepting…' : 'Dismissing…'}
                  </span>
                )}
              </div>
            </form>
          ) : (
            <p className="muted small">Deciding needs the permission <code>runs:write</code>.</p>
          )}
        </>
      )}
    </article>
  );
}
