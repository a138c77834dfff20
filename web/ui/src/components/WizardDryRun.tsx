import { useState } from 'react';
import { runsApi } from '../api/endpoints';
import type { Step } from '../api/types';
import { toApiError } from '../lib/useAsync';
import { useRunLive } from '../lib/useRunLive';
import { Link } from '../router/Link';
import { paths } from '../router/paths';
import { LoadingState } from './LoadingState';
import { ProblemAlert } from './ProblemAlert';
import { StatusChip } from './StatusChip';
import type { ApiError } from '../api/client';

const FINISHED = new Set(['succeeded', 'failed', 'cancelled', 'timed_out']);

/** One line about what a step did in the dry run. */
export function stepOutcome(step: Step): string {
  if (step.error) return step.error;
  const output = step.output as Record<string, unknown> | null | undefined;
  if (step.status === 'waiting') return 'Waiting for a person to decide, as a real run would.';
  if (step.status === 'skipped') return 'Skipped.';
  if (output && typeof output === 'object') {
    if ('plan' in output) {
      const plan = output.plan;
      const n = Array.isArray(plan) ? plan.length : 1;
      return `Planned ${n} action${n === 1 ? '' : 's'}; nothing was sent or changed.`;
    }
    if (typeof output.summary === 'string') return output.summary;
    if (typeof output.count === 'number') return `${output.count} row${output.count === 1 ? '' : 's'} read.`;
  }
  return '';
}

/** A dry run followed live: each step's state and what it would have done. */
export function WizardDryRun({ runId, stepOrder }: { runId: string; stepOrder: string[] }) {
  const run = useRunLive(runId);
  const [cancelling, setCancelling] = useState(false);
  const [cancelError, setCancelError] = useState<ApiError | null>(null);
  const detail = run.data;

  const cancel = async () => {
    setCancelling(true);
    setCancelError(null);
    try {
      await runsApi.cancel(runId);
      run.reload();
    } catch (err) {
      setCancelError(toApiError(err));
    } finally {
      setCancelling(false);
    }
  };

  if (!detail) {
    return run.error ? <ProblemAlert error={run.error} action="Could not follow the dry run" onRetry={run.reload} /> : <LoadingState label="Starting the dry run…" />;
  }
  const order = new Map(stepOrder.map((id, i) => [id, i]));
  const steps = [...detail.steps].sort((a, b) => (order.get(a.step_id) ?? 999) - (order.get(b.step_id) ?? 999));
  const waiting = steps.find((s) => s.status === 'waiting');
  const finished = FINISHED.has(detail.status);

  return (
    <div className="wizard-dry-run" aria-labelledby="wizard-dry-run-title">
      <div className="section-head">
        <h3 id="wizard-dry-run-title">Dry run</h3>
        <span role="status" aria-live="polite" className="wizard-dry-run-status">
          <StatusChip status={waiting && !finished ? 'waiting' : detail.status} />
          <span className="visually-hidden">{finished ? ' The dry run has finished.' : ''}</span>
        </span>
      </div>
      <p className="small muted">
        Read-only steps ran against your data; steps that would change something only described what they would do.{' '}
        <Link to={paths.run(runId)}>Open the run</Link>
      </p>
      {detail.error && <p className="field-error">{detail.error}</p>}
      <ol className="wizard-dry-run-steps">
        {steps.map((s) => (
          <li key={s.step_id}>
            <StatusChip status={s.status} /> <span className="mono">{s.step_id}</span>
            {stepOutcome(s) && <span className="wizard-step-outcome"> {stepOutcome(s)}</span>}
          </li>
        ))}
      </ol>
      {waiting && !finished && (
        <div className="alert alert-info">
          <p>
            The dry run stopped at the approval step <code>{waiting.step_id}</code>, as a real run would; nothing was changed. Cancel it so that it does not
            wait in the approvals inbox. Activating the workflow cancels it too.
          </p>
          <button type="button" className="button" onClick={() => void cancel()} disabled={cancelling}>
            {cancelling ? 'Cancelling…' : 'Cancel the dry run'}
          </button>
        </div>
      )}
      {cancelError && <ProblemAlert error={cancelError} action="Could not cancel the dry run" />}
    </div>
  );
}
