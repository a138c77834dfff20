import { runsApi } from '../api/endpoints';
import { useState } from 'react';
import { useAsync } from '../lib/useAsync';
import { spanDuration } from '../lib/time';
import { JsonView } from './JsonView';
import { LoadingState } from './LoadingState';
import { ProblemAlert } from './ProblemAlert';
import { StatusChip } from './StatusChip';

const PAGE = 20;

/** The items of a foreach step, a page at a time. */
export function StepItemsList({ runId, stepId, version }: { runId: string; stepId: string; version: number }) {
  const [offset, setOffset] = useState(0);
  const items = useAsync((signal) => runsApi.items(runId, stepId, offset, PAGE, signal), [runId, stepId, offset, version]);
  const total = items.data?.total ?? 0;

  return (
    <section aria-label={`Items of ${stepId}`} className="step-items">
      <h4>Items</h4>
      {items.error && <ProblemAlert error={items.error} action="Could not load the items" onRetry={items.reload} />}
      {items.loading && !items.data && <LoadingState label="Loading items…" />}
      {items.data && items.data.items.length === 0 && <p className="muted">No items recorded.</p>}
      {items.data && items.data.items.length > 0 && (
        <>
          <ul className="item-list">
            {items.data.items.map((item) => (
              <li key={item.index} className="item-row">
                <div className="item-head">
                  <span className="mono">#{item.index}</span>
                  <StatusChip status={item.status} />
                  <span className="muted">
                    attempt {item.attempt} · {spanDuration(item.started_at, item.finished_at)}
                  </span>
                </div>
                {item.error && <p className="error-text">{item.error}</p>}
                <JsonView label="Output" value={item.output} open={false} />
              </li>
            ))}
          </ul>
          <div className="pager">
            <button type="button" className="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
              Previous
            </button>
            <span aria-live="polite">
              {offset + 1}–{Math.min(offset + PAGE, total)} of {total}
            </span>
            <button type="button" className="button" disabled={offset + PAGE >= total} onClick={() => setOffset(offset + PAGE)}>
              Next
            </button>
          </div>
        </>
      )}
    </section>
  );
}
