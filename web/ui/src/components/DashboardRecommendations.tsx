import { useEffect, useRef, useState } from 'react';
import type { ApiError } from '../api/client';
import type { KpiQuery } from '../api/kpis';
import { recommendationsApi, type AcceptAnswer, type Recommendation, type RecommendationDecision, type RecommendationList } from '../api/recommendations';
import { usePermission } from '../auth/session';
import { formatSpan } from '../lib/kpiFormat';
import { decisionWords, recommendationTitle, splitByDecision } from '../lib/recommendationWords';
import { formatDateTime } from '../lib/time';
import { useAsync } from '../lib/useAsync';
import { EmptyState } from './EmptyState';
import { LoadingState } from './LoadingState';
import { ProblemAlert } from './ProblemAlert';
import { AcceptedNote, RecommendationCard, type DecisionKind } from './RecommendationCard';
import { RelativeTime } from './RelativeTime';

interface Loaded {
  list: RecommendationList;
  /** The query the list was read with, sent again with each decision. */
  query: KpiQuery;
}

interface StaleProblem {
  error: ApiError;
  action: string;
}

function DecidedItem({ rec }: { rec: Recommendation }) {
  const canSeeRuns = usePermission('runs:read');
  const d = rec.decision;
  if (!d) return null;
  return (
    <li className="reco-decided-item">
      <p className="reco-decided-title">
        <span className={`chip ${d.status === 'accepted' ? 'chip-succeeded' : ''}`}>{decisionWords(d.status)}</span>{' '}
        <strong>{recommendationTitle(rec)}</strong>
      </p>
      <p className="muted small">
        by {d.by}, <RelativeTime at={d.at} /> ({formatDateTime(d.at)})
      </p>
      {d.comment && <blockquote className="reco-comment">{d.comment}</blockquote>}
      {d.status === 'accepted' && d.run_id && (
        <p className="small">
          <AcceptedNote runId={d.run_id} canSeeRuns={canSeeRuns} />
        </p>
      )}
    </li>
  );
}

/** The dashboard's recommendations for the period shown: what kpi.recommend advises for each
 * campaign, to accept (which starts the matching workflow) or dismiss. Give it a key per period:
 * a new period is a new list, and what was accepted on the old one is forgotten. */
export function DashboardRecommendations({ query }: { query: KpiQuery }) {
  const { since, until, platform } = query;
  const state = useAsync<Loaded>(async (signal) => {
    const q: KpiQuery = { since, until, platform };
    return { list: await recommendationsApi.list(q, signal), query: q };
  }, [since, until, platform]);
  const [accepted, setAccepted] = useState<ReadonlyMap<string, AcceptAnswer>>(new Map());
  const [stale, setStale] = useState<StaleProblem | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const [focusAfter, setFocusAfter] = useState<string | null>(null);
  const cards = useRef(new Map<string, HTMLElement>());
  const headingRef = useRef<HTMLHeadingElement>(null);
  const staleRef = useRef<HTMLDivElement>(null);

  const items = state.data?.list.items ?? [];
  const { open: undecided, decided } = splitByDecision(items);
  // An accepted card stays where it was, showing its run, until the list is read again.
  const open = items.filter((r) => !r.decision || accepted.has(r.id));

  // After a dismissal the card is gone: focus moves to the next card, or the heading.
  useEffect(() => {
    if (focusAfter === null) return;
    setFocusAfter(null);
    const target = cards.current.get(focusAfter) ?? headingRef.current;
    target?.focus();
  }, [focusAfter]);

  useEffect(() => {
    if (stale) staleRef.current?.focus();
  }, [stale]);

  const onDecided = (rec: Recommendation, kind: DecisionKind, decision: RecommendationDecision, runId: string | null) => {
    const title = recommendationTitle(rec);
    const merged: RecommendationDecision = { ...decision, run_id: decision.run_id ?? runId };
    if (kind === 'accept') {
      setAccepted((prev) => new Map(prev).set(rec.id, { id: rec.id, decision: merged, run_id: runId }));
      setAnnouncement(`Accepted “${title}”. ${runId ? `Run ${runId} started.` : 'Your decision is recorded.'}`);
    } else {
      const index = open.findIndex((r) => r.id === rec.id);
      const next = open[index + 1] ?? open[index - 1];
      setFocusAfter(next ? next.id : '');
      setAnnouncement(`Dismissed “${title}”. It is listed under Decided.`);
    }
    setStale(null);
    state.setData((prev) =>
      prev ? { ...prev, list: { ...prev.list, items: prev.list.items.map((r) => (r.id === rec.id ? { ...r, decision: merged } : r)) } } : prev,
    );
  };

  const onStale = (rec: Recommendation, kind: DecisionKind, error: ApiError) => {
    const verb = kind === 'accept' ? 'accept' : 'dismiss';
    const why = error.status === 409 ? 'it was already decided' : 'it is no longer made for this period';
    setStale({ error, action: `Could not ${verb} “${recommendationTitle(rec)}” (${why}); the list has been refreshed` });
    setAnnouncement('');
    state.reload();
  };

  const setCard = (id: string) => (el: HTMLElement | null) => {
    if (el) cards.current.set(id, el);
    else cards.current.delete(id);
  };

  const period = state.data?.list.period;
  const loaded = state.data !== undefined;

  return (
    <section className="card recommendations" aria-labelledby="recommendations-heading" aria-busy={state.loading || undefined}>
      <div className="recommendations-head">
        <h2 id="recommendations-heading" ref={headingRef} tabIndex={-1}>
          Recommendations
        </h2>
        <p className="muted small">
          What the KPIs of {period ? formatSpan(period.since, period.until) : 'this period'} suggest for each campaign, most certain first.
          Accepting starts the workflow that carries it out; dismissing only records your decision.
        </p>
      </div>
      <p className="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </p>
      {stale && (
        <div ref={staleRef} tabIndex={-1} className="reco-stale">
          <ProblemAlert error={stale.error} action={stale.action} />
        </div>
      )}
      {state.error && <ProblemAlert error={state.error} action="Could not load the recommendations" onRetry={state.reload} />}
      {!loaded && state.loading && <LoadingState label="Loading recommendations…" />}
      {loaded && items.length === 0 && (
        <EmptyState title="No recommendations for this period">
          <p>No campaign is far enough past its targets for the rules of kpi.recommend to advise anything.</p>
        </EmptyState>
      )}
      {loaded && items.length > 0 && open.length === 0 && (
        <p className="muted reco-all-decided">Every recommendation for this period has been decided.</p>
      )}
      {open.length > 0 && (
        <ul className="reco-list" aria-label={`Open recommendations (${undecided.length})`}>
          {open.map((rec) => (
            <li key={rec.id}>
              <RecommendationCard
                ref={setCard(rec.id)}
                rec={rec}
                query={state.data!.query}
                accepted={accepted.get(rec.id)}
                onDecided={onDecided}
                onStale={onStale}
              />
            </li>
          ))}
        </ul>
      )}
      {decided.length > 0 && (
        <details className="reco-decided">
          <summary>Decided ({decided.length})</summary>
          <ul>
            {decided.map((rec) => (
              <DecidedItem key={rec.id} rec={rec} />
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}
