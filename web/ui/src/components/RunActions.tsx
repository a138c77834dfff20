import { useState } from 'react';
import { ApiError } from '../api/client';
import { runsApi } from '../api/endpoints';
import type { RunDetail } from '../api/types';
import { usePermission } from '../auth/session';
import { toApiError } from '../lib/useAsync';
import { navigate } from '../router/router';
import { paths } from '../router/paths';
import { ProblemAlert } from './ProblemAlert';

const FINISHED = new Set(['succeeded', 'failed', 'cancelled', 'timed_out']);

export function runActionsFor(run: Pick<RunDetail, 'status'>) {
  return {
    cancel: run.status === 'queued' || run.status === 'running',
    retry: run.status === 'failed' || run.status === 'timed_out' || run.status === 'cancelled',
    rerun: FINISHED.has(run.status),
  };
}

export function RunActions({ run, onChanged }: { run: RunDetail; onChanged: () => void }) {
  const canWrite = usePermission('runs:write');
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<{ action: string; error: ApiError } | null>(null);
  const [confirmCancel, setConfirmCancel] = useState(false);
  if (!canWrite) return null;
  const applies = runActionsFor(run);

  const act = async (action: string, call: () => Promise<void>) => {
    setBusy(action);
    setError(null);
    try {
      await call();
    } catch (err) {
      setError({ action, error: toApiError(err) });
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="run-actions">
      {applies.cancel &&
        (confirmCancel ? (
          <span className="confirm">
            <span>Cancel this run?</span>
            <button
              type="button"
              className="button button-danger"
              disabled={busy !== null}
              onClick={() =>
                void act('Could not cancel the run', async () => {
                  await runsApi.cancel(run.id);
                  setConfirmCancel(false);
                  onChanged();
                })
              }
            >
              {busy ? 'Cancelling…' : 'Yes, cancel'}
            </button>
            <button type="button" className="button" onClick={() => setConfirmCancel(false)}>
              Keep running
            </button>
          </span>
        ) : (
          <button type="button" className="button" onClick={() => setConfirmCancel(true)}>
            Cancel run
          </button>
        ))}
      {applies.retry && (
        <button
          type="button"
          className="button button-primary"
          disabled={busy !== null}
          onClick={() =>
            void act('Could not retry the run', async () => {
              const started = await runsApi.retry(run.id);
              navigate(paths.run(started.run_id));
            })
          }
        >
          Retry from failed
        </button>
      )}
      {applies.rerun && (
        <button
          type="button"
          className="button"
          disabled={busy !== null}
          onClick={() =>
            void act('Could not re-run', async () => {
              const started = await runsApi.rerun(run.id);
              navigate(paths.run(started.run_id));
            })
          }
        >
          Re-run
        </button>
      )}
      {error && <ProblemAlert error={error.error} action={error.action} />}
    </div>
  );
}
