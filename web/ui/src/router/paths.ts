// Links to pages, so a page's path is spelt in one place besides routes.json.
const enc = encodeURIComponent;

export const paths = {
  login: (next?: string) => (next && next !== '/login' ? `/login?next=${enc(next)}` : '/login'),
  dashboard: () => '/dashboard',
  wizard: () => '/wizard',
  workflows: () => '/workflows',
  workflow: (id: string) => `/workflows/${enc(id)}`,
  runs: (query?: Record<string, string | undefined>) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v) params.set(k, v);
    const qs = params.toString();
    return qs ? `/runs?${qs}` : '/runs';
  },
  run: (id: string) => `/runs/${enc(id)}`,
  approvals: () => '/approvals',
  connections: () => '/connections',
};
