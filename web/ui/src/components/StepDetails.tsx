import type { Step } from '../api/types';
import { spanDuration, formatDateTime } from '../lib/time';
import { JsonView } from './JsonView';
import { StatusChip } from './StatusChip';
import { StepItemsList } from './StepItemsList';

interface StepDetailsProps {
  runId: string;
  step: Step;
  uses?: string;
  /** Changes whenever the run is fetched again, so item pages follow the run. */
  version: number;
}

export function StepDetails({ runId, step, uses, version }: StepDetailsProps) {
  const isForeach = step.item_count !== undefined || step.items !== undefined;
  const latest = step.attempts[step.attempts.length - 1];
  return (
    <section className="card step-details" aria-labelledby="step-details-title">
      <div className="step-details-head">
        <h3 id="step-details-title">
          Step <span className="mono">{step.step_id}</span>
        </h3>
        <StatusChip status={step.status} />
      </div>
      <dl className="kv">
        {uses && (
          <>
            <dt>Kind</dt>
            <dd className="mono">{uses}</dd>
          </>
        )}
        <dt>Started</dt>
        <dd>{step.started_at ? formatDateTime(step.started_at) : 'not yet'}</dd>
        <dt>Duration</dt>
        <dd>{spanDuration(step.started_at, step.finished_at)}</dd>
        {isForeach && (
          <>
            <dt>Items</dt>
            <dd>
              {step.item_count ?? '?'}
              {step.items &&
                ` (${Object.entries(step.items)
                  .map(([status, n]) => `${n} ${status}`)
                  .join(', ')})`}
            </dd>
          </>
        )}
      </dl>
      {step.error && (
        <p className="alert alert-error">
          <strong>Error:</strong> {step.error}
        </p>
      )}

      {step.attempts.length > 0 && (
        <>
          <h4>Attempts</h4>
          <ol className="attempts">
            {step.attempts.map((attempt) => (
              <li key={`${attempt.attempt}-${attempt.index ?? ''}`} className="attempt">
                <div className="item-head">
                  <span>Attempt {attempt.attempt}</span>
                  <StatusChip status={attempt.status} />
                  <span className="muted">{spanDuration(attempt.started_at, attempt.finished_at)}</span>
                </div>
                {attempt.error && <p className="error-text">{attempt.error}</p>}
                <JsonView label="Input" value={attempt.input} open={attempt === latest ? undefined : false} />
                <JsonView label="Output" value={attempt.output} open={attempt === latest ? undefined : false} />
              </li>
            ))}
          </ol>
        </>
      )}
      {step.attempts.length === 0 && step.output !== null && step.output !== undefined && (
        <JsonView label="Output" value={step.output} />
      )}
      {isForeach && <StepItemsList runId={runId} stepId={step.step_id} version={version} />}
    </section>
  );
}
