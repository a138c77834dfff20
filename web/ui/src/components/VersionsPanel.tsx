import { useEffect, useState } from 'react';
import { ApiError } from '../api/client';
import { workflowsApi } from '../api/endpoints';
import type { Workflow } from '../api/types';
import { usePermission } from '../auth/session';
import { lineDiff } from '../lib/lineDiff';
import { toApiError, useAsync } from '../lib/useAsync';
import { LoadingState } from './LoadingState';
import { ProblemAlert } from './ProblemAlert';
import { RelativeTime } from './RelativeTime';

function DiffView({ id, from, to }: { id: string; from: number; to: number }) {
  const texts = useAsync(
    (signal) => Promise.all([workflowsApi.version(id, from, signal), workflowsApi.version(id, to, signal)]),
    [id, from, to],
  );
  if (texts.error) return <ProblemAlert error={texts.error} action="Could not load the revisions" onRetry={texts.reload} />;
  if (!texts.data) return <LoadingState label="Loading the revisions…" />;
  const [a, b] = texts.data;
  const lines = lineDiff(a.source_text, b.source_text);
  const added = lines.filter((l) => l.kind === 'added').length;
  const removed = lines.filter((l) => l.kind === 'removed').length;
  return (
    <>
      <p className="muted" aria-live="polite">
        Revision {from} → {to}: {added} line{added === 1 ? '' : 's'} added, {removed} removed.
      </p>
      <div className="diff" role="table" aria-label={`Changes from revision ${from} to ${to}`} tabIndex={0}>
        {lines.map((line, i) => (
          <div key={i} role="row" className={`diff-line diff-${line.kind}`}>
            <span role="cell" className="diff-no">{line.kind !== 'added' ? line.oldLine : ''}</span>
            <span role="cell" className="diff-no">{line.kind !== 'removed' ? line.newLine : ''}</span>
            <span role="cell" className="diff-sign" aria-label={line.kind === 'same' ? 'unchanged' : line.kind}>
              {line.kind === 'added' ? '+' : line.kind === 'removed' ? '−' : ' '}
            </span>
            <span role="cell" className="diff-text">{line.text || ' '}</span>
          </div>
        ))}
      </div>
    </>
  );
}

export function VersionsPanel({ workflow, onRolledBack }: { workflow: Workflow; onRolledBack: (w: Workflow) => void }) {
  const versions = useAsync((signal) => workflowsApi.versions(workflow.id, signal), [workflow.id, workflow.revision]);
  const canWrite = usePermission('workflows:write') && workflow.source === 'api';
  const [from, setFrom] = useState<number | null>(null);
  const [to, setTo] = useState<number | null>(null);
  const [busy, setBusy] = useState<number | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const items = versions.data?.items ?? [];

  useEffect(() => {
    // Start by comparing the current revision with the one before it.
    if (items.length >= 2) {
      setTo(items[0]?.revision ?? null);
      setFrom(items[1]?.revision ?? null);
    }
  }, [versions.data]);

  const rollback = async (revision: number) => {
    setBusy(revision);
    setError(null);
    try {
      onRolledBack(await workflowsApi.rollback(workflow.id, revision));
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(null);
    }
  };

  if (versions.error) return <ProblemAlert error={versions.error} action="Could not load versions" onRetry={versions.reload} />;
  if (!versions.data) return <LoadingState label="Loading versions…" />;

  return (
    <div className="versions">
      {workflow.source === 'file' && <p className="muted">Revisions of a file-defined workflow follow its file; roll back by changing the file.</p>}
      <div className="table-wrap">
        <table className="table table-compact">
          <caption className="visually-hidden">Revisions, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Revision</th>
              <th scope="col">Change</th>
              <th scope="col">When</th>
              <th scope="col">Compare from</th>
              <th scope="col">Compare to</th>
              {canWrite && <th scope="col"><span className="visually-hidden">Actions</span></th>}
            </tr>
          </thead>
          <tbody>
            {items.map((v) => (
              <tr key={v.revision}>
                <td>
                  {v.revision} {v.current && <span className="tag">current</span>}
                </td>
                <td>{v.note}</td>
                <td>
                  <RelativeTime at={v.created_at} />
                </td>
                <td>
                  <input type="radio" name="diff-from" checked={from === v.revision} onChange={() => setFrom(v.revision)} aria-label={`Compare from revision ${v.revision}`} />
                </td>
                <td>
                  <input type="radio" name="diff-to" checked={to === v.revision} onChange={() => setTo(v.revision)} aria-label={`Compare to revision ${v.revision}`} />
                </td>
                {canWrite && (
                  <td>
                    {!v.current && (
                      <button type="button" className="button button-small" disabled={busy !== null} onClick={() => void rollback(v.revision)}>
                        {busy === v.revision ? 'Rolling back…' : `Roll back to ${v.revision}`}
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {error && <ProblemAlert error={error} action="Could not roll back" />}
      {items.length < 2 ? (
        <p className="muted">There is only one revision, so nothing to compare yet.</p>
      ) : from !== null && to !== null && from !== to ? (
        <DiffView id={workflow.id} from={from} to={to} />
      ) : (
        <p className="muted">Pick two different revisions to compare.</p>
      )}
    </div>
  );
}
