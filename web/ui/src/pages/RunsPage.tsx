import { useState } from 'react';
import { ApiError } from '../api/client';
import { runsApi, workflowsApi, type RunFilters } from '../api/endpoints';
import { RUN_STATUSES, RUN_TRIGGERS, type Run } from '../api/types';
import { usePermission } from '../auth/session';
import { EmptyState } from '../components/EmptyState';
import { LoadingState } from '../components/LoadingState';
import { PageHeader } from '../components/PageHeader';
import { ProblemAlert } from '../components/ProblemAlert';
import { RunsTable } from '../components/RunsTable';
import { statusLabel } from '../components/StatusChip';
import { toApiError, useAsync } from '../lib/useAsync';
import { navigate, useLocation } from '../router/router';
import { paths } from '../router/paths';

const PAGE_SIZE = 50;

interface Page {
  runs: Run[];
  cursor?: string;
}

export function RunsPage() {
  const { search } = useLocation();
  const filters: RunFilters = {
    workflow: search.get('workflow') ?? undefined,
    status: search.get('status') ?? undefined,
    trigger: search.get('trigger') ?? undefined,
  };
  const canListWorkflows = usePermission('workflows:read');
  const workflows = useAsync(
    (signal) => (canListWorkflows ? workflowsApi.list(signal) : Promise.resolve(null)),
    [canListWorkflows],
  );

  const page = useAsync<Page>(
    async (signal) => {
      const list = await runsApi.list({ ...filters, limit: PAGE_SIZE }, signal);
      return { runs: list.items, cursor: list.next_cursor };
    },
    [filters.workflow, filters.status, filters.trigger],
  );
  const [moreBusy, setMoreBusy] = useState(false);
  const [moreError, setMoreError] = useState<ApiError | null>(null);

  const setFilter = (key: keyof RunFilters, value: string) => {
    navigate(paths.runs({ ...filters, [key]: value || undefined }));
  };

  const loadMore = async () => {
    const cursor = page.data?.cursor;
    if (!cursor) return;
    setMoreBusy(true);
    setMoreError(null);
    try {
      const list = await runsApi.list({ ...filters, limit: PAGE_SIZE, cursor });
      page.setData((prev) => ({ runs: [...(prev?.runs ?? []), ...list.items], cursor: list.next_cursor }));
    } catch (err) {
      setMoreError(toApiError(err));
    } finally {
      setMoreBusy(false);
    }
  };

  const workflowIds = workflows.data?.items.map((w) => w.id) ?? [];
  if (filters.workflow && !workflowIds.includes(filters.workflow)) workflowIds.push(filters.workflow);
  const filtered = Boolean(filters.workflow || filters.status || filters.trigger);
  const runs = page.data?.runs ?? [];

  return (
    <>
      <PageHeader title="Runs" subtitle="Every run of every workflow, newest first." />
      <form className="filters" aria-label="Filter runs" onSubmit={(e) => e.preventDefault()}>
        <div className="field field-inline">
          <label htmlFor="filter-workflow">Workflow</label>
          {canListWorkflows ? (
            <select id="filter-workflow" value={filters.workflow ?? ''} onChange={(e) => setFilter('workflow', e.target.value)}>
              <option value="">All workflows</option>
              {workflowIds.map((id) => (
                <option key={id} value={id}>
                  {id}
                </option>
              ))}
            </select>
          ) : (
            <input
              id="filter-workflow"
              defaultValue={filters.workflow ?? ''}
              onBlur={(e) => setFilter('workflow', e.target.value.trim())}
            />
          )}
        </div>
        <div className="field field-inline">
          <label htmlFor="filter-status">Status</label>
          <select id="filter-status" value={filters.status ?? ''} onChange={(e) => setFilter('status', e.target.value)}>
            <option value="">Any status</option>
            {RUN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {statusLabel(s)}
              </option>
            ))}
          </select>
        </div>
        <div className="field field-inline">
          <label htmlFor="filter-trigger">Trigger</label>
          <select id="filter-trigger" value={filters.trigger ?? ''} onChange={(e) => setFilter('trigger', e.target.value)}>
            <option value="">Any trigger</option>
            {RUN_TRIGGERS.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        {filtered && (
          <button type="button" className="button button-ghost" onClick={() => navigate(paths.runs())}>
            Clear filters
          </button>
        )}
      </form>

      <p className="visually-hidden" aria-live="polite">
        {page.loading ? 'Loading runs' : `${runs.length} runs shown`}
      </p>
      {page.error && <ProblemAlert error={page.error} action="Could not load runs" onRetry={page.reload} />}
      {page.loading && !page.data && <LoadingState label="Loading runs…" />}
      {page.data && runs.length === 0 && (
        <EmptyState title={filtered ? 'No runs match these filters.' : 'No runs yet.'}>
          {filtered ? 'Clear a filter to see more.' : 'Start a workflow from its page with “Run now”.'}
        </EmptyState>
      )}
      {runs.length > 0 && (
        <section className="card card-flush" aria-busy={page.loading}>
          <RunsTable runs={runs} caption="Runs" />
          <div className="table-footer">
            {moreError && <ProblemAlert error={moreError} action="Could not load more runs" />}
            {page.data?.cursor ? (
              <button type="button" className="button" onClick={() => void loadMore()} disabled={moreBusy}>
                {moreBusy ? 'Loading…' : 'Load more'}
              </button>
            ) : (
              <span className="muted">That is all of them.</span>
            )}
          </div>
        </section>
      )}
    </>
  );
}
