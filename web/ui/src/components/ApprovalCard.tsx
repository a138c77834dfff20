import { useId, useState } from 'react';
import { ApiError } from '../api/client';
import { approvalsApi, runsApi, workflowsApi } from '../api/endpoints';
import type { Approval } from '../api/types';
import { usePermission } from '../auth/session';
import { approvalPlan } from '../lib/approvalPlan';
import { relativeTime } from '../lib/time';
import { toApiError, useAsync } from '../lib/useAsync';
import { Link } from '../router/Link';
import { paths } from '../router/paths';
import { DataView } from './DataView';
import { LoadingState } from './LoadingState';
import { DecisionComment } from './DecisionComment';
import { ProblemAlert } from './ProblemAlert';
import { RelativeTime } from './RelativeTime';

interface ApprovalCardProps {
  approval: Approval;
  onDecided: (approval: Approval, decision: 'approve' | 'reject') => void;
}

export function ApprovalCard({ approval, onDecided }: ApprovalCardProps) {
  const canDecide = usePermission('approvals');
  const canReadWorkflows = usePermission('workflows:read');
  const headingId = useId();
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState<'approve' | 'reject' | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const context = useAsync(
    async (signal) => {
      const [run, workflow] = await Promise.all([
        runsApi.get(approval.run_id, signal),
        canReadWorkflows ? workflowsApi.get(approval.workflow_id, signal).catch(() => undefined) : Promise.resolve(undefined),
      ]);
      return approvalPlan(approval, run, workflow);
    },
    [approval.run_id, approval.workflow_id, canReadWorkflows],
  );

  const decide = async (decision: 'approve' | 'reject') => {
    setBusy(decision);
    setError(null);
    try {
      await approvalsApi.decide(approval.run_id, approval.step_id, decision, comment.trim());
      onDecided(approval, decision);
    } catch (err) {
      setError(toApiError(err));
      setBusy(null);
    }
  };

  const plan = context.data;
  const commentErrors = error?.fieldErrors('comment') ?? [];

  return (
    <article className="card approval" aria-labelledby={headingId}>
      <header className="approval-head">
        <h2 id={headingId}>
          <Link to={paths.workflow(approval.workflow_id)}>{approval.workflow_id}</Link>
          <span className="muted"> · step {approval.step_id}</span>
        </h2>
        <p className="muted small">
          Asked <RelativeTime at={approval.created_at} /> · run{' '}
          <Link to={paths.run(approval.run_id)} className="mono">
            {approval.run_id}
          </Link>
          {approval.expires_at && <> · expires {relativeTime(approval.expires_at)}</>}
        </p>
      </header>
      <p className="approval-message">{approval.message}</p>

      <section className="approval-plan" aria-label="What happens on approval">
        {context.loading && !plan && <LoadingState label="Loading the plan…" />}
        {context.error && <p className="muted">The run's data could not be loaded: {context.error.problem.detail}</p>}
        {plan && plan.next.length > 0 && (
          <p>
            <strong>On approval:</strong>{' '}
            {plan.next.map((s, i) => (
              <span key={s.id}>
                {i > 0 && ', '}
                <span className="mono">{s.id}</span> ({s.uses}
                {s.foreach ? ', once per item' : ''})
              </span>
            ))}
            . <strong>On rejection:</strong> the step fails and these steps are skipped.
          </p>
        )}
        {plan && plan.data !== undefined && (
          <>
            {plan.source && (
              <h3 className="small-heading">
                Data from step <span className="mono">{plan.source}</span>
              </h3>
            )}
            <DataView value={plan.data} label={plan.source ? `Data from step ${plan.source}` : 'Details'} />
          </>
        )}
      </section>

      {canDecide ? (
        <form
          className="approval-form"
          onSubmit={(e) => {
            e.preventDefault();
          }}
        >
          <DecisionComment value={comment} onChange={setComment} errors={commentErrors} />
          {error && commentErrors.length === 0 && <ProblemAlert error={error} action="Could not record the decision" />}
          <div className="button-row">
            <button type="button" className="button button-primary" disabled={busy !== null} onClick={() => void decide('approve')}>
              {busy === 'approve' ? 'Approving…' : 'Approve'}
            </button>
            <button type="button" className="button button-danger" disabled={busy !== null} onClick={() => void decide('reject')}>
              {busy === 'reject' ? 'Rejecting…' : 'Reject'}
            </button>
          </div>
        </form>
      ) : (
        <p className="muted">Your role cannot decide approvals.</p>
      )}
    </article>
  );
}
