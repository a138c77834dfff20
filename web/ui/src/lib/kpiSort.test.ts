import { describe, expect, it } from 'vitest';
import { campaignRows } from './kpiFixtures';
import { ariaSort, nextSort, sortCampaigns } from './kpiSort';

const names = (sort: Parameters<typeof sortCampaigns>[1]) => sortCampaigns(campaignRows, sort).map((r) => r.campaign_name);

describe('campaign sorting', () => {
  it('sorts by CPA with the campaigns without a CPA last, either way', () => {
    expect(names({ key: 'cpa', dir: 'asc' })).toEqual(['Summer sale', 'Brand search', 'Retargeting', 'Lookalike', 'Prospecting']);
    expect(names({ key: 'cpa', dir: 'desc' })).toEqual(['Retargeting', 'Brand search', 'Summer sale', 'Lookalike', 'Prospecting']);
  });

  it('sorts by ROAS, where 0 is a value and null is not', () => {
    expect(names({ key: 'roas', dir: 'desc' })).toEqual(['Summer sale', 'Brand search', 'Retargeting', 'Prospecting', 'Lookalike']);
    expect(names({ key: 'roas', dir: 'asc' })).toEqual(['Prospecting', 'Retargeting', 'Brand search', 'Summer sale', 'Lookalike']);
  });

  it('sorts by spend and conversions, ties by name', () => {
    expect(names({ key: 'spend', dir: 'desc' })).toEqual(['Prospecting', 'Brand search', 'Retargeting', 'Summer sale', 'Lookalike']);
    expect(names({ key: 'conversions', dir: 'desc' })).toEqual(['Brand search', 'Summer sale', 'Retargeting', 'Lookalike', 'Prospecting']);
  });

  it('does not change the rows it is given', () => {
    const before = campaignRows.map((r) => r.campaign_id);
    sortCampaigns(campaignRows, { key: 'roas', dir: 'asc' });
    expect(campaignRows.map((r) => r.campaign_id)).toEqual(before);
  });

  it('shows the best first on a first click and flips on a second', () => {
    expect(nextSort({ key: 'spend', dir: 'desc' }, 'cpa')).toEqual({ key: 'cpa', dir: 'asc' });
    expect(nextSort({ key: 'spend', dir: 'desc' }, 'roas')).toEqual({ key: 'roas', dir: 'desc' });
    expect(nextSort({ key: 'cpa', dir: 'asc' }, 'cpa')).toEqual({ key: 'cpa', dir: 'desc' });
    expect(ariaSort({ key: 'cpa', dir: 'asc' }, 'cpa')).toBe('ascending');
    expect(ariaSort({ key: 'cpa', dir: 'asc' }, 'roas')).toBe('none');
  });
});
