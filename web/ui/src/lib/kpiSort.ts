// Sorting the campaign table. A campaign without a value (ROAS or CPA when its denominator is 0)
// goes last whichever way the column is sorted, so the top of the table is always comparable.
import type { CampaignRow } from '../api/kpis';

export type SortKey = 'spend' | 'roas' | 'cpa' | 'conversions';
export type SortDir = 'asc' | 'desc';

export interface SortState {
  key: SortKey;
  dir: SortDir;
}

export const SORT_KEYS: SortKey[] = ['spend', 'roas', 'cpa', 'conversions'];
export const DEFAULT_SORT: SortState = { key: 'spend', dir: 'desc' };

/** The first click on a column shows the best first: the lowest CPA, the highest of the rest. */
export function firstDirection(key: SortKey): SortDir {
  return key === 'cpa' ? 'asc' : 'desc';
}

export function nextSort(current: SortState, key: SortKey): SortState {
  if (current.key === key) return { key, dir: current.dir === 'asc' ? 'desc' : 'asc' };
  return { key, dir: firstDirection(key) };
}

function valueOf(row: CampaignRow, key: SortKey): number | null {
  const value = row[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

export function sortCampaigns(rows: readonly CampaignRow[], sort: SortState): CampaignRow[] {
  const sign = sort.dir === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const va = valueOf(a, sort.key);
    const vb = valueOf(b, sort.key);
    if (va === null && vb !== null) return 1;
    if (vb === null && va !== null) return -1;
    if (va !== null && vb !== null && va !== vb) return (va - vb) * sign;
    return (
      a.campaign_name.localeCompare(b.campaign_name) ||
      a.platform.localeCompare(b.platform) ||
      a.campaign_id.localeCompare(b.campaign_id)
    );
  });
}

export function ariaSort(sort: SortState, key: SortKey): 'ascending' | 'descending' | 'none' {
  if (sort.key !== key) return 'none';
  return sort.dir === 'asc' ? 'ascending' : 'descending';
}
