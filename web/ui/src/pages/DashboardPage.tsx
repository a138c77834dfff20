import { useRef, useState } from 'react';
import { kpisApi, type CampaignRow, type KpiSummary } from '../api/kpis';
import { usePermission } from '../auth/session';
import { DashboardCampaignDetail } from '../components/DashboardCampaignDetail';
import { DashboardCampaignTable } from '../components/DashboardCampaignTable';
import { DashboardCurrency } from '../components/DashboardCurrency';
import { DashboardPeriodPicker } from '../components/DashboardPeriodPicker';
import { DashboardRecommendations } from '../components/DashboardRecommendations';
import { Dialog } from '../components/Dialog';
import { EmptyState } from '../components/EmptyState';
import { LoadingState } from '../components/LoadingState';
import { PageHeader } from '../components/PageHeader';
import { ProblemAlert } from '../components/ProblemAlert';
import { formatDay, formatSpan, platformName } from '../lib/kpiFormat';
import { apiQuery, dashboardHref, describeSelection, searchFromSelection, selectionFromSearch, type PeriodSelection } from '../lib/kpiPeriod';
import { DEFAULT_SORT, nextSort, type SortState } from '../lib/kpiSort';
import { useAsync } from '../lib/useAsync';
import { Link } from '../router/Link';
import { paths } from '../router/paths';
import { navigate, useLocation } from '../router/router';
import '../styles/dashboard.css';

const SYNC_WORKFLOW = 'unified-daily-sync';

/** The newest day with data, per platform filter ('' for all): the warehouse answers it with each summary. */
type LatestDays = Map<string, string | null>;

/** Loads the summary; a preset range needs the newest day first, which one extra request tells. */
async function loadSummary(selection: PeriodSelection, latest: LatestDays, signal: AbortSignal): Promise<KpiSummary> {
  const key = selection.platform ?? '';
  let query = apiQuery(selection, latest.get(key));
  if (query === null) {
    const first = await kpisApi.summary({ platform: selection.platform }, signal);
    latest.set(key, first.latest_date);
    query = apiQuery(selection, first.latest_date);
    if (query === null || first.latest_date === null) return first;
  }
  const summary = await kpisApi.summary(query, signal);
  latest.set(key, summary.latest_date);
  return summary;
}

function NoData({ summary, selection }: { summary: KpiSummary; selection: PeriodSelection }) {
  const canSeeWorkflows = usePermission('workflows:read');
  if (summary.latest_date === null) {
    return (
      <section className="card">
        <EmptyState title="No campaign data yet">
          <p>
            The dashboard reads the marketing warehouse, which the <code>{SYNC_WORKFLOW}</code> workflow fills with each day&rsquo;s
            numbers from the ad platforms. Run it (or wait for its schedule), then come back.
          </p>
          {canSeeWorkflows && (
            <p>
              <Link to={paths.workflow(SYNC_WORKFLOW)}>Open the {SYNC_WORKFLOW} workflow</Link>
            </p>
          )}
        </EmptyState>
      </section>
    );
  }
  const where = selection.platform ? ` for ${platformName(selection.platform)}` : '';
  return (
    <section className="card">
      <EmptyState title="No data in this period">
        <p>
          The warehouse has nothing between {formatSpan(summary.period.since, summary.period.until)}
          {where}. Its newest day is {formatDay(summary.latest_date)}.
        </p>
        <p>
          <Link to={dashboardHref({ kind: 'preset', days: 28 })}>Show the last 28 days on all platforms</Link>
        </p>
      </EmptyState>
    </section>
  );
}

function Dashboard() {
  const { search } = useLocation();
  const selection = selectionFromSearch(search);
  const selectionKey = searchFromSelection(selection);
  const latest = useRef<LatestDays>(new Map());
  const summary = useAsync((signal) => loadSummary(selection, latest.current, signal), [selectionKey]);
  const period = summary.data?.period;
  const hasData = (summary.data?.currencies.length ?? 0) > 0;
  const campaigns = useAsync(
    (signal) =>
      period && hasData ? kpisApi.campaigns({ since: period.since, until: period.until, platform: selection.platform }, signal) : Promise.resolve(null),
    [period?.since, period?.until, selection.platform, hasData],
  );
  const [sort, setSort] = useState<SortState>(DEFAULT_SORT);
  const [open, setOpen] = useState<CampaignRow | null>(null);

  const refresh = () => {
    latest.current.clear();
    summary.reload();
  };

  const data = summary.data;
  const only = data?.currencies.length === 1;
  const stale = summary.loading && data !== undefined;

  return (
    <div className="dashboard-page">
      <PageHeader
        title="Dashboard"
        subtitle="Spend, revenue and results of your campaigns, compared with the period before."
        actions={
          <button type="button" className="button" onClick={refresh} disabled={summary.loading}>
            Refresh
          </button>
        }
      />
      <DashboardPeriodPicker
        selection={selection}
        platforms={data?.platforms ?? []}
        shown={period}
        latestDate={data?.latest_date}
        onChange={(next) => navigate(dashboardHref(next))}
      />
      <p className="period-line" role="status" aria-live="polite">
        {stale ? (
          'Updating…'
        ) : data && data.latest_date !== null ? (
          <>
            {describeSelection(selection)}
            {selection.platform ? ` on ${platformName(selection.platform)}` : ''}: <strong>{formatSpan(data.period.since, data.period.until)}</strong> (
            {data.period.days} days), compared with {formatSpan(data.previous.since, data.previous.until)}. Newest data:{' '}
            {formatDay(data.latest_date)}.
          </>
        ) : null}
      </p>

      {summary.error && <ProblemAlert error={summary.error} action="Could not load the KPIs" onRetry={summary.reload} />}
      {!data && summary.loading && <LoadingState label="Loading KPIs…" />}

      {data && !hasData && !summary.error && <NoData summary={data} selection={selection} />}

      {data && hasData && (
        <div aria-busy={stale || undefined} className={stale ? 'dashboard-stale' : undefined}>
          {data.currencies.map((kpis) => (
            <DashboardCurrency key={kpis.currency} kpis={kpis} only={only} />
          ))}
          <section className="card card-flush campaigns" aria-labelledby="campaigns-heading">
            <div className="campaigns-head">
              <h2 id="campaigns-heading">Campaigns</h2>
              <p className="muted small">Sort by a column heading; open a campaign for its days and funnel.</p>
            </div>
            {campaigns.error && <ProblemAlert error={campaigns.error} action="Could not load the campaigns" onRetry={campaigns.reload} />}
            {!campaigns.data && campaigns.loading && <LoadingState label="Loading campaigns…" />}
            {campaigns.data && campaigns.data.items.length === 0 && <EmptyState title="No campaigns in this period" />}
            {campaigns.data && campaigns.data.items.length > 0 && (
              <DashboardCampaignTable rows={campaigns.data.items} sort={sort} onSort={(key) => setSort((s) => nextSort(s, key))} onOpen={setOpen} />
            )}
          </section>
          <DashboardRecommendations
            key={`${data.period.since}/${data.period.until}/${selection.platform ?? ''}`}
            query={{ since: data.period.since, until: data.period.until, platform: selection.platform }}
          />
        </div>
      )}

      <Dialog title={open ? open.campaign_name || open.campaign_id : ''} open={open !== null && period !== undefined} onClose={() => setOpen(null)}>
        {open && period && <DashboardCampaignDetail key={`${open.platform}/${open.account_id}/${open.campaign_id}`} row={open} since={period.since} until={period.until} />}
      </Dialog>
    </div>
  );
}

export function DashboardPage() {
  const canRead = usePermission('runs:read');
  if (!canRead) {
    return (
      <>
        <PageHeader title="Dashboard" />
        <div className="alert alert-info" role="status">
          <p>
            The dashboard needs the permission <code>runs:read</code>. Ask an administrator for a role that has it.
          </p>
        </div>
      </>
    );
  }
  return <Dashboard />;
}
