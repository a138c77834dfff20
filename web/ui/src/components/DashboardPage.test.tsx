import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SessionProvider } from '../auth/session';
import { campaignDetailFixture, campaignsFixture, summaryFixture } from '../lib/kpiFixtures';
import { DashboardPage } from '../pages/DashboardPage';
import { navigate } from '../router/router';

// No canvas in jsdom: the charts are checked in ChartTrend.test.tsx.
vi.mock('uplot', () => ({
  default: class {
    static pxRatio = 1;
    setSize() {}
    destroy() {}
  },
}));

const session = { user: { id: 'u1', email: 'a@b.c', name: 'A', role: 'viewer' }, permissions: ['runs:read', 'workflows:read'], csrf_token: 't' };

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' } });
}

let routes: Record<string, (url: URL) => Response>;
const calls: string[] = [];

beforeEach(() => {
  calls.length = 0;
  routes = {
    '/api/v1/auth/session': () => json(session),
    '/api/v1/kpis': () => json(summaryFixture()),
    '/api/v1/kpis/campaigns': () => json(campaignsFixture()),
    '/api/v1/kpis/campaigns/meta/act_1/c5': () => json(campaignDetailFixture()),
  };
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: string) => {
      const url = new URL(input, 'http://local');
      calls.push(url.pathname + url.search);
      const route = routes[url.pathname];
      return route ? route(url) : json({ title: 'Not Found', status: 404, detail: 'no route' }, 404);
    }),
  );
});
afterEach(() => {
  vi.unstubAllGlobals();
  window.history.replaceState(null, '', '/');
});

function show(path: string) {
  window.history.replaceState(null, '', path);
  return render(
    <SessionProvider>
      <DashboardPage />
    </SessionProvider>,
  );
}

describe('DashboardPage', () => {
  it('asks for the newest day, then the last 7 days of it, and shows tiles and campaigns', async () => {
    show('/dashboard?range=7&platform=meta');
    expect(await screen.findByRole('group', { name: 'CPA (EUR)' })).toBeTruthy();
    expect(calls.filter((c) => c.startsWith('/api/v1/kpis?'))).toEqual([
      '/api/v1/kpis?platform=meta',
      '/api/v1/kpis?since=2026-11-16&until=2026-11-22&platform=meta',
    ]);
    expect(within(screen.getByRole('group', { name: 'CPA (EUR)' })).getByText('CPA up 17.6% from €25.00 in the previous period. That is worse.')).toBeTruthy();
    expect(screen.getByRole('heading', { name: /Anomalies \(1\)/ })).toBeTruthy();
    expect(screen.getByText('Spend on 14 Nov was €290.00, above its usual €150.00 to €210.00.')).toBeTruthy();
    // The campaigns are asked for the period the summary answered with.
    expect(await screen.findByRole('button', { name: 'Summer sale' })).toBeTruthy();
    expect(calls).toContain('/api/v1/kpis/campaigns?since=2026-10-26&until=2026-11-22&platform=meta');
  });

  it('ends a preset on the newest day of the platform chosen', async () => {
    routes['/api/v1/kpis'] = (url) => json(summaryFixture({ latest_date: url.searchParams.get('platform') === 'tiktok' ? '2026-05-02' : '2026-11-22' }));
    show('/dashboard?range=7&platform=tiktok');
    await screen.findByRole('group', { name: 'CPA (EUR)' });
    act(() => navigate('/dashboard?range=7'));
    const summaries = () => calls.filter((c) => /^\/api\/v1\/kpis(\?|$)/.test(c));
    await vi.waitFor(() => expect(summaries()).toHaveLength(4));
    expect(summaries()).toEqual([
      '/api/v1/kpis?platform=tiktok',
      '/api/v1/kpis?since=2026-04-26&until=2026-05-02&platform=tiktok',
      '/api/v1/kpis',
      '/api/v1/kpis?since=2026-11-16&until=2026-11-22',
    ]);
  });

  it('opens a campaign with its funnel and days', async () => {
    const user = userEvent.setup();
    show('/dashboard');
    await user.click(await screen.findByRole('button', { name: 'Summer sale' }));
    const dialog = await screen.findByRole('dialog', { name: 'Summer sale', hidden: true });
    expect(await within(dialog).findByRole('list', { name: 'Funnel', hidden: true })).toBeTruthy();
    expect(within(dialog).getByText('CTR 2.00% of impressions')).toBeTruthy();
    expect(within(dialog).getByText('CVR 2.50% of clicks')).toBeTruthy();
    // The table row says Unknown (never recorded); the detail answer says paused.
    expect(within(dialog).getByText('Paused')).toBeTruthy();
    expect(within(dialog).getByRole('table', { name: 'Summer sale, day by day (EUR)', hidden: true })).toBeTruthy();
    expect(calls).toContain('/api/v1/kpis/campaigns/meta/act_1/c5?since=2026-10-26&until=2026-11-22');
  });

  it('says which workflow fills an empty warehouse', async () => {
    routes['/api/v1/kpis'] = () => json(summaryFixture({ latest_date: null, platforms: [], currencies: [] }));
    show('/dashboard?range=90');
    expect(await screen.findByText('No campaign data yet')).toBeTruthy();
    expect(screen.getByText('unified-daily-sync')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Open the unified-daily-sync workflow' }).getAttribute('href')).toBe('/workflows/unified-daily-sync');
    // One request: with no newest day there is nothing to count 90 days back from.
    expect(calls.filter((c) => c.startsWith('/api/v1/kpis'))).toHaveLength(1);
  });

  it('shows the server naming a bad date', async () => {
    routes['/api/v1/kpis'] = () =>
      json({ type: 'about:blank', title: 'Bad request', status: 400, detail: 'invalid query', errors: [{ path: 'since', message: 'not a date' }] }, 400);
    show('/dashboard?since=2026-10-01&until=2026-10-31');
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Could not load the KPIs: Bad request');
    expect(alert.textContent).toContain('since: not a date');
  });
});
