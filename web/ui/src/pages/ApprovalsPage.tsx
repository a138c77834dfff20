import { useState } from 'react';
import { approvalsApi } from '../api/endpoints';
import { ApprovalCard } from '../components/ApprovalCard';
import { EmptyState } from '../components/EmptyState';
import { LoadingState } from '../components/LoadingState';
import { PageHeader } from '../components/PageHeader';
import { ProblemAlert } from '../components/ProblemAlert';
import { announceApprovalsChanged } from '../lib/approvalsCount';
import { useAsync } from '../lib/useAsync';

export function ApprovalsPage() {
  const list = useAsync((signal) => approvalsApi.pending(signal), []);
  const [announcement, setAnnouncement] = useState('');
  const items = list.data?.items ?? [];

  return (
    <>
      <PageHeader
        title="Approvals"
        subtitle="Steps waiting for a person before they move money or change campaigns."
        actions={
          <button type="button" className="button" onClick={list.reload} disabled={list.loading}>
            Refresh
          </button>
        }
      />
      <p className="visually-hidden" aria-live="polite">
        {announcement}
      </p>
      {list.error && <ProblemAlert error={list.error} action="Could not load approvals" onRetry={list.reload} />}
      {list.loading && !list.data && <LoadingState label="Loading approvals…" />}
      {list.data && items.length === 0 && (
        <EmptyState title="Nothing waits for approval.">New requests appear here when a workflow reaches an approval step.</EmptyState>
      )}
      <div className="approval-list">
        {items.map((approval) => (
          <ApprovalCard
            key={`${approval.run_id}/${approval.step_id}`}
            approval={approval}
            onDecided={(decided, decision) => {
              list.setData((prev) =>
                prev
                  ? { items: prev.items.filter((a) => !(a.run_id === decided.run_id && a.step_id === decided.step_id)) }
                  : prev,
              );
              setAnnouncement(
                decision === 'approve'
                  ? `Approved ${decided.workflow_id}; the run continues.`
                  : `Rejected ${decided.workflow_id}; the run stops.`,
              );
              announceApprovalsChanged();
            }}
          />
        ))}
      </div>
    </>
  );
}
