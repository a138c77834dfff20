import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { KpiQuery } from '../api/kpis';
import type { RecommendationList } from '../api/recommendations';
import { SessionProvider } from '../auth/session';
import { summaryFixture, campaignsFixture } from '../lib/kpiFixtures';
import { recommendationsFixture } from '../lib/recommendationFixtures';
import { DashboardPage } from '../pages/DashboardPage';
import { DashboardRecommendations } from './DashboardRecommendations';

// No canvas in jsdom: the dashboard's charts are checked in ChartTrend.test.tsx.
vi.mock('uplot', () => ({
  default: class {
    static pxRatio = 1;
    setSize() {}
    destroy() {}
  },
}));

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' } });
}

interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

let permissions: string[];
let list: () => RecommendationList;
let routes: Record<string, (call: Call) => Response>;
const calls: Call[] = [];

const QUERY: KpiQuery = { since: '2026-10-26', until: '2026-11-22', platform: 'meta' };
const PERIOD_QS = 'since=2026-10-26&until=2026-11-22&platform=meta';

beforeEach(() => {
  calls.length = 0;
  permissions = ['runs:read', 'runs:write', 'workflows:read'];
  list = () => recommendationsFixture();
  routes = {
    'GET /api/v1/auth/session': () =>
      json({ user: { id: 'u1', email: 'ana@example.com', name: 'Ana', role: 'operator' }, permissions, csrf_token: 'csrf-123' }),
    'GET /api/v1/recommendations': () => json(list()),
  };
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: string, init: RequestInit = {}) => {
      const url = new URL(input, 'http://local');
      const call: Call = {
        method: init.method ?? 'GET',
        url: url.pathname + url.search,
        headers: (init.headers ?? {}) as Record<string, string>,
        body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
      };
      calls.push(call);
      const route = routes[`${call.method} ${url.pathname}`];
      return route ? route(call) : json({ title: 'Not Found', status: 404, detail: 'no route' }, 404);
    }),
  );
});
afterEach(() => {
  vi.unstubAllGlobals();
  window.history.replaceState(null, '', '/');
});

function show(query: KpiQuery = QUERY) {
  return render(
    <SessionProvider>
      <DashboardRecommendations query={query} />
    </SessionProvider>,
  );
}

const PAUSE = 'Pause the campaign: Lookalike - Purchasers 1%';
const LANDING = 'Review its landing page: Summer sale';

describe('DashboardRecommendations', () => {
  it('lists the open ones with the action in words, the confidence and what Accept does', async () => {
    show();
    const region = screen.getByRole('region', { name: 'Recommendations' });
    const card = await within(region).findByRole('article', { name: PAUSE });
    expect(calls.filter((c) => c.url.startsWith('/api/v1/recommendations'))[0]!.url).toBe(`/api/v1/recommendations?${PERIOD_QS}`);
    expect(within(region).getByRole('list', { name: 'Open recommendations (2)' })).toBeTruthy();
    // Highest score first, each card named by its heading.
    expect(within(region).getAllByRole('article').map((a) => a.querySelector('h3')?.textContent)).toEqual([PAUSE, LANDING]);
    expect(within(card).getByText('High confidence')).toBeTruthy();
    expect(within(card).getByText('Meta · account act_1 · campaign c7 · EUR')).toBeTruthy();
    expect(within(card).getByText(/Pause it, or lower its bids\./)).toBeTruthy();
    expect(within(card).getByText('€50.00')).toBeTruthy();
    expect(card.querySelector('.reco-effect')?.textContent).toBe('Accept: Starts the workflow recommendation-pause.');
    expect(within(card).getByRole('link', { name: 'recommendation-pause' }).getAttribute('href')).toBe('/workflows/recommendation-pause');

    const landing = screen.getByRole('article', { name: LANDING });
    expect(within(landing).getByText('Low confidence')).toBeTruthy();
    expect(landing.querySelector('.reco-effect')?.textContent).toBe('Accept: Records your decision; no workflow handles this action.');

    // The decided one is out of the way, with who decided and why.
    const decided = screen.getByText('Decided (1)').closest('details')!;
    expect(decided.open).toBe(false);
    expect(decided.textContent).toContain('Dismissed Raise its budget: Brand search');
    expect(decided.textContent).toContain('by ana@example.com');
    expect(decided.textContent).toContain('Brand is capped on purpose.');
  });

  it('accepts with the period, the CSRF header and the comment, and shows the run it started', async () => {
    routes['POST /api/v1/recommendations/r_3f2a01/accept'] = () =>
      json({ id: 'r_3f2a01', decision: { status: 'accepted', by: 'ana@example.com', at: Date.now(), comment: 'Too expensive', run_id: 'run_42' }, run_id: 'run_42' });
    const user = userEvent.setup();
    show();
    const card = await screen.findByRole('article', { name: PAUSE });
    await user.type(within(card).getByLabelText('Comment (optional)'), '  Too expensive ');
    await user.click(within(card).getByRole('button', { name: 'Accept' }));

    const result = await within(card).findByText(/Accepted/);
    expect(result.textContent).toBe('Accepted — run run_42 started.');
    expect(within(card).getByRole('link', { name: 'run_42' }).getAttribute('href')).toBe('/runs/run_42');
    await vi.waitFor(() => expect(document.activeElement).toBe(result));
    expect(within(card).queryByRole('button', { name: 'Accept' })).toBeNull();
    expect(screen.getByText(`Accepted “${PAUSE}”. Run run_42 started.`)).toBeTruthy();

    const post = calls.find((c) => c.method === 'POST')!;
    expect(post.url).toBe(`/api/v1/recommendations/r_3f2a01/accept?${PERIOD_QS}`);
    expect(post.headers['X-CSRF-Token']).toBe('csrf-123');
    expect(post.body).toEqual({ comment: 'Too expensive' });
    expect(screen.getByText('Decided (2)')).toBeTruthy();
    // The other card is untouched and the list was not read again.
    expect(within(screen.getByRole('article', { name: LANDING })).getByRole('button', { name: 'Accept' })).toBeTruthy();
    expect(calls.filter((c) => c.method === 'GET' && c.url.startsWith('/api/v1/recommendations'))).toHaveLength(1);
  });

  it('moves a dismissed one to Decided, with no comment sent when none was written', async () => {
    routes['POST /api/v1/recommendations/r_9b1c02/dismiss'] = () =>
      json({ id: 'r_9b1c02', decision: { status: 'dismissed', by: 'ana@example.com', at: Date.now(), comment: null, run_id: null } });
    const user = userEvent.setup();
    show();
    const card = await screen.findByRole('article', { name: LANDING });
    await user.click(within(card).getByRole('button', { name: 'Dismiss' }));

    await vi.waitFor(() => expect(screen.queryByRole('article', { name: LANDING })).toBeNull());
    const post = calls.find((c) => c.method === 'POST')!;
    expect(post.url).toBe(`/api/v1/recommendations/r_9b1c02/dismiss?${PERIOD_QS}`);
    expect(post.headers['X-CSRF-Token']).toBe('csrf-123');
    expect(post.body).toEqual({});
    expect(screen.getByText(`Dismissed “${LANDING}”. It is listed under Decided.`)).toBeTruthy();
    // Focus goes to the card before it, not to the page's start.
    // Moved by an effect after the card is gone, so it may land a render later.
    await vi.waitFor(() => expect(document.activeElement).toBe(screen.getByRole('article', { name: PAUSE })));

    await user.click(screen.getByText('Decided (2)'));
    const decided = screen.getByText('Decided (2)').closest('details')!;
    expect(decided.open).toBe(true);
    expect(decided.textContent).toContain(`Dismissed ${LANDING}`);
    expect(decided.textContent).toContain('by ana@example.com, just now');
  });

  it('on 409 says it was already decided and reads the list again', async () => {
    routes['POST /api/v1/recommendations/r_3f2a01/accept'] = () =>
      json({ type: 'about:blank', title: 'Conflict', status: 409, detail: 'The recommendation was already accepted by bo@example.com.' }, 409);
    const user = userEvent.setup();
    show();
    const card = await screen.findByRole('article', { name: PAUSE });
    list = () => {
      const fresh = recommendationsFixture();
      fresh.items[0] = { ...fresh.items[0]!, decision: { status: 'accepted', by: 'bo@example.com', at: Date.now() - 120_000, run_id: 'run_7' } };
      return fresh;
    };
    await user.click(within(card).getByRole('button', { name: 'Accept' }));

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain(`Could not accept “${PAUSE}” (it was already decided); the list has been refreshed: Conflict`);
    expect(alert.textContent).toContain('already accepted by bo@example.com');
    await vi.waitFor(() => expect(screen.queryByRole('article', { name: PAUSE })).toBeNull());
    expect(calls.filter((c) => c.method === 'GET' && c.url === `/api/v1/recommendations?${PERIOD_QS}`)).toHaveLength(2);
    const decided = screen.getByText('Decided (2)').closest('details')!;
    expect(decided.textContent).toContain('by bo@example.com, 2 min ago');
    expect(within(decided).getByRole('link', { name: 'run_7', hidden: true }).getAttribute('href')).toBe('/runs/run_7');
  });

  it('on 404 says the recommendation is no longer made', async () => {
    routes['POST /api/v1/recommendations/r_9b1c02/dismiss'] = () =>
      json({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'No such recommendation for this period.' }, 404);
    const user = userEvent.setup();
    show();
    await user.click(within(await screen.findByRole('article', { name: LANDING })).getByRole('button', { name: 'Dismiss' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('(it is no longer made for this period)');
    await vi.waitFor(() => expect(calls.filter((c) => c.method === 'GET' && c.url.startsWith('/api/v1/recommendations'))).toHaveLength(2));
  });

  it('keeps other errors on the card, with the server naming the comment', async () => {
    routes['POST /api/v1/recommendations/r_3f2a01/dismiss'] = () =>
      json({ type: 'about:blank', title: 'Bad request', status: 400, detail: 'invalid body', errors: [{ path: 'comment', message: 'at most 2000 characters' }] }, 400);
    const user = userEvent.setup();
    show();
    const card = await screen.findByRole('article', { name: PAUSE });
    await user.click(within(card).getByRole('button', { name: 'Dismiss' }));
    expect(await within(card).findByText('at most 2000 characters')).toBeTruthy();
    expect(within(card).getByLabelText('Comment (optional)').getAttribute('aria-invalid')).toBe('true');
    expect(within(card).getByRole('button', { name: 'Dismiss' })).toBeTruthy();
    expect(calls.filter((c) => c.method === 'GET' && c.url.startsWith('/api/v1/recommendations'))).toHaveLength(1);
  });

  it('hides the comment and the buttons without runs:write', async () => {
    permissions = ['runs:read'];
    show();
    const card = await screen.findByRole('article', { name: PAUSE });
    expect(within(card).queryByRole('button', { name: 'Accept' })).toBeNull();
    expect(within(card).queryByRole('button', { name: 'Dismiss' })).toBeNull();
    expect(within(card).queryByLabelText('Comment (optional)')).toBeNull();
    expect(card.textContent).toContain('Deciding needs the permission runs:write.');
    // Without workflows:read the workflow is named but not linked.
    expect(within(card).queryByRole('link')).toBeNull();
    expect(card.querySelector('.reco-effect')?.textContent).toBe('Accept: Starts the workflow recommendation-pause.');
  });

  it('says when there is nothing to recommend', async () => {
    list = () => recommendationsFixture({ items: [] });
    show({});
    expect(await screen.findByText('No recommendations for this period')).toBeTruthy();
    expect(calls.some((c) => c.url === '/api/v1/recommendations')).toBe(true);
    expect(screen.queryByText(/Decided/)).toBeNull();
  });

  it('shows loading, then an error to retry', async () => {
    let fail = true;
    routes['GET /api/v1/recommendations'] = () =>
      fail ? json({ type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'the warehouse is locked' }, 500) : json(list());
    const user = userEvent.setup();
    show();
    expect(screen.getByText('Loading recommendations…')).toBeTruthy();
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Could not load the recommendations: Internal Server Error');
    fail = false;
    await user.click(within(alert).getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('article', { name: PAUSE })).toBeTruthy();
  });

  it('sits below the campaigns on the dashboard and asks for the period the dashboard shows', async () => {
    routes['GET /api/v1/kpis'] = () => json(summaryFixture());
    routes['GET /api/v1/kpis/campaigns'] = () => json(campaignsFixture());
    window.history.replaceState(null, '', '/dashboard?range=7&platform=meta');
    render(
      <SessionProvider>
        <DashboardPage />
      </SessionProvider>,
    );
    const region = await screen.findByRole('region', { name: 'Recommendations' });
    expect(await within(region).findByRole('article', { name: PAUSE })).toBeTruthy();
    // Once, for the period the summary answered with (the fixture's), and the platform chosen.
    expect(calls.map((c) => c.url).filter((u) => u.startsWith('/api/v1/recommendations'))).toEqual([
      '/api/v1/recommendations?since=2026-10-26&until=2026-11-22&platform=meta',
    ]);
    const campaigns = screen.getByRole('heading', { name: 'Campaigns' });
    expect(campaigns.compareDocumentPosition(region) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
  });
});
