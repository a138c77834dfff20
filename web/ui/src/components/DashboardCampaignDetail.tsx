import { kpisApi, type CampaignRow } from '../api/kpis';
import { formatSpan, platformName } from '../lib/kpiFormat';
import { useAsync } from '../lib/useAsync';
import { CampaignStatus } from './CampaignStatus';
import { DashboardAnomalies } from './DashboardAnomalies';
import { DashboardCharts } from './DashboardCharts';
import { DashboardDayTable } from './DashboardDayTable';
import { DashboardFunnel } from './DashboardFunnel';
import { EmptyState } from './EmptyState';
import { KpiTiles } from './KpiTiles';
import { LoadingState } from './LoadingState';
import { ProblemAlert } from './ProblemAlert';

/** One campaign over the dashboard's period: its totals, funnel, daily charts and day-level table. */
export function DashboardCampaignDetail({ row, since, until }: { row: CampaignRow; since: string; until: string }) {
  const detail = useAsync(
    (signal) => kpisApi.campaign(row, { since, until }, signal),
    [row.platform, row.account_id, row.campaign_id, since, until],
  );

  if (detail.error) {
    if (detail.error.status === 404) {
      return <EmptyState title="No data for this campaign">The warehouse has no days of this campaign between {formatSpan(since, until)}.</EmptyState>;
    }
    return <ProblemAlert error={detail.error} action="Could not load the campaign" onRetry={detail.reload} />;
  }
  if (!detail.data) return <LoadingState label="Loading the campaign…" />;

  const { campaign, period, totals, funnel, days, anomalies } = detail.data;
  const currency = campaign.currency;
  return (
    <div className="campaign-detail">
      <dl className="facts">
        <div>
          <dt>Platform</dt>
          <dd>{platformName(campaign.platform)}</dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd>
            <CampaignStatus status={campaign.status} />
          </dd>
        </div>
        <div>
          <dt>Account</dt>
          <dd className="mono">{campaign.account_id}</dd>
        </div>
        <div>
          <dt>Campaign ID</dt>
          <dd className="mono">{campaign.campaign_id}</dd>
        </div>
        <div>
          <dt>Period</dt>
          <dd>
            {formatSpan(period.since, period.until)} ({period.days} days)
          </dd>
        </div>
        <div>
          <dt>Currency</dt>
          <dd>{currency}</dd>
        </div>
      </dl>
      <div className="campaign-detail-top">
        <section aria-labelledby="campaign-totals-h">
          <h3 id="campaign-totals-h">Totals</h3>
          <KpiTiles totals={totals} currency={currency} metrics={['spend', 'revenue', 'roas', 'cpa', 'conversions']} showDelta={false} />
        </section>
        <section aria-labelledby="campaign-funnel-h">
          <h3 id="campaign-funnel-h">Funnel</h3>
          <DashboardFunnel funnel={funnel} />
        </section>
      </div>
      <DashboardCharts days={days} anomalies={anomalies} currency={currency} height={180} />
      <DashboardAnomalies anomalies={anomalies} />
      <h3>Day by day</h3>
      <DashboardDayTable days={days} anomalies={anomalies} currency={currency} caption={`${campaign.campaign_name}, day by day (${currency})`} />
    </div>
  );
}
