import type { CampaignRow } from '../api/kpis';
import { CampaignStatus } from './CampaignStatus';
import { platformName } from '../lib/kpiFormat';
import { formatMetric } from '../lib/kpiMetrics';
import { ariaSort, sortCampaigns, type SortKey, type SortState } from '../lib/kpiSort';

const SORT_LABELS: Record<SortKey, string> = { spend: 'Spend', roas: 'ROAS', cpa: 'CPA', conversions: 'Conversions' };

export function sortDescription(sort: SortState): string {
  const best = sort.key === 'cpa' ? sort.dir === 'asc' : sort.dir === 'desc';
  const order = sort.dir === 'desc' ? 'highest first' : 'lowest first';
  return `sorted by ${SORT_LABELS[sort.key]}, ${order}${best ? ' (best first)' : ''}`;
}

function SortHeader({ sortKey, sort, onSort }: { sortKey: SortKey; sort: SortState; onSort: (key: SortKey) => void }) {
  const state = ariaSort(sort, sortKey);
  const arrow = state === 'ascending' ? '▲' : state === 'descending' ? '▼' : '↕';
  return (
    <th scope="col" aria-sort={state} className="num-col">
      <button type="button" className="sort-button" onClick={() => onSort(sortKey)}>
        {SORT_LABELS[sortKey]}
        <span className={`sort-arrow${state === 'none' ? ' sort-arrow-idle' : ''}`} aria-hidden="true">
          {arrow}
        </span>
      </button>
    </th>
  );
}

/** The campaigns of the period; the four KPI columns sort (campaigns without a value go last), and a
 * campaign's name opens its days and funnel. */
export function DashboardCampaignTable({
  rows,
  sort,
  onSort,
  onOpen,
}: {
  rows: readonly CampaignRow[];
  sort: SortState;
  onSort: (key: SortKey) => void;
  onOpen: (row: CampaignRow) => void;
}) {
  const sorted = sortCampaigns(rows, sort);
  const currencies = new Set(rows.map((r) => r.currency));
  return (
    <div className="table-wrap">
      <table className="table campaign-table">
        <caption className="visually-hidden">Campaigns, {sortDescription(sort)}</caption>
        <thead>
          <tr>
            <th scope="col">Campaign</th>
            <th scope="col">Platform</th>
            <th scope="col">Status</th>
            <SortHeader sortKey="spend" sort={sort} onSort={onSort} />
            <th scope="col" className="num-col">
              Revenue
            </th>
            <SortHeader sortKey="roas" sort={sort} onSort={onSort} />
            <SortHeader sortKey="cpa" sort={sort} onSort={onSort} />
            <SortHeader sortKey="conversions" sort={sort} onSort={onSort} />
            <th scope="col" className="num-col">
              CTR
            </th>
            <th scope="col" className="num-col">
              CVR
            </th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((row) => (
            <tr key={`${row.platform}/${row.account_id}/${row.campaign_id}`}>
              <th scope="row" className="campaign-cell">
                <button type="button" className="link-button campaign-open" aria-haspopup="dialog" onClick={() => onOpen(row)}>
                  {row.campaign_name || row.campaign_id}
                </button>
                <span className="campaign-ids muted small">
                  {row.account_id} · {row.campaign_id}
                  {currencies.size > 1 ? ` · ${row.currency}` : ''}
                </span>
              </th>
              <td>{platformName(row.platform)}</td>
              <td>
                <CampaignStatus status={row.status} />
              </td>
              <td className="num">{formatMetric('spend', row.spend, row.currency)}</td>
              <td className="num">{formatMetric('revenue', row.revenue, row.currency)}</td>
              <td className="num">{formatMetric('roas', row.roas, row.currency)}</td>
              <td className="num">{formatMetric('cpa', row.cpa, row.currency)}</td>
              <td className="num">{formatMetric('conversions', row.conversions, row.currency)}</td>
              <td className="num">{formatMetric('ctr', row.ctr, row.currency)}</td>
              <td className="num">{formatMetric('cvr', row.cvr, row.currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
