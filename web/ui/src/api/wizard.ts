// The routes the wizard needs beyond endpoints.ts, built on the same client.
import { api, request } from './client';
import type { Started, Workflow } from './types';

const enc = encodeURIComponent;

export interface CronPreview {
  expression: string;
  timezone: string;
  /** Local times in `timezone`, with their offset. */
  times: string[];
}

export const wizardApi = {
  cronNext: (expr: string, tz: string, count: number, signal?: AbortSignal) =>
    api.get<CronPreview>('/cron/next', { expr, tz, count }, signal),
  /** Creates the workflow; `enabled: false` keeps its triggers off until it is enabled. */
  create: (source: string, options: { enabled: boolean }) =>
    request<Workflow>('POST', '/workflows', { body: source, contentType: 'application/yaml', query: { enabled: options.enabled ? undefined : 'false' } }),
  update: (id: string, source: string) => request<Workflow>('PUT', `/workflows/${enc(id)}`, { body: source, contentType: 'application/yaml' }),
  setEnabled: (id: string, enabled: boolean) => api.post<Workflow>(`/workflows/${enc(id)}/${enabled ? 'enable' : 'disable'}`),
  dryRun: (id: string, inputs: Record<string, unknown>) => api.post<Started>(`/workflows/${enc(id)}/runs`, { inputs, dry_run: true }),
};
