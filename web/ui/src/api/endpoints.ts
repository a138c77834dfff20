// Typed calls of the routes the UI uses, so pages never spell a URL.
import { api, request } from './client';
import type {
  ApprovalList,
  Diagnostic,
  LogList,
  RevisionList,
  Revision,
  RunDetail,
  RunList,
  Session,
  SignedOut,
  Started,
  StepItems,
  ValidationResult,
  Workflow,
  WorkflowList,
} from './types';

const enc = encodeURIComponent;
const definitionType = (format: 'yaml' | 'lua') => (format === 'lua' ? 'application/x-lua' : 'application/yaml');

export const sessionApi = {
  current: () => request<Session | SignedOut>('GET', '/auth/session', { quiet401: true }),
  login: (email: string, password: string) =>
    request<Session>('POST', '/auth/login', { body: { email, password }, quiet401: true }),
  logout: () => request<void>('POST', '/auth/logout', { quiet401: true }),
};

export const workflowsApi = {
  list: (signal?: AbortSignal) => api.get<WorkflowList>('/workflows', undefined, signal),
  get: (id: string, signal?: AbortSignal) => api.get<Workflow>(`/workflows/${enc(id)}`, undefined, signal),
  setEnabled: (id: string, enabled: boolean) => api.post<Workflow>(`/workflows/${enc(id)}/${enabled ? 'enable' : 'disable'}`),
  startRun: (id: string, inputs: Record<string, unknown>) => api.post<Started>(`/workflows/${enc(id)}/runs`, { inputs }),
  versions: (id: string, signal?: AbortSignal) => api.get<RevisionList>(`/workflows/${enc(id)}/versions`, undefined, signal),
  version: (id: string, revision: number, signal?: AbortSignal) =>
    api.get<Revision>(`/workflows/${enc(id)}/versions/${revision}`, undefined, signal),
  rollback: (id: string, revision: number) => api.post<Workflow>(`/workflows/${enc(id)}/rollback`, { revision }),
  save: (id: string, source: string, format: 'yaml' | 'lua') =>
    api.put<Workflow>(`/workflows/${enc(id)}`, source, definitionType(format)),
  validate: (source: string, format: 'yaml' | 'lua', signal?: AbortSignal) =>
    request<ValidationResult>('POST', '/validate', { body: source, contentType: definitionType(format), signal }),
};

export interface RunFilters {
  workflow?: string;
  status?: string;
  trigger?: string;
}

export const runsApi = {
  list: (filters: RunFilters & { cursor?: string; limit?: number }, signal?: AbortSignal) =>
    api.get<RunList>('/runs', { ...filters }, signal),
  get: (id: string, signal?: AbortSignal) => api.get<RunDetail>(`/runs/${enc(id)}`, undefined, signal),
  logs: (id: string, step?: string, signal?: AbortSignal) =>
    api.get<LogList>(`/runs/${enc(id)}/logs`, { step, limit: 1000 }, signal),
  items: (id: string, stepId: string, offset: number, limit: number, signal?: AbortSignal) =>
    api.get<StepItems>(`/runs/${enc(id)}/steps/${enc(stepId)}/items`, { offset, limit }, signal),
  cancel: (id: string) => api.post<unknown>(`/runs/${enc(id)}/cancel`, {}),
  retry: (id: string) => api.post<Started>(`/runs/${enc(id)}/retry`),
  rerun: (id: string) => api.post<Started>(`/runs/${enc(id)}/rerun`, {}),
  eventsUrl: (id: string) => `/api/v1/runs/${enc(id)}/events`,
};

export const approvalsApi = {
  pending: (signal?: AbortSignal) => api.get<ApprovalList>('/approvals', undefined, signal),
  decide: (runId: string, stepId: string, decision: 'approve' | 'reject', comment: string) =>
    api.post<unknown>(`/approvals/${enc(runId)}/${enc(stepId)}/${decision}`, comment ? { comment } : {}),
};

export type { Diagnostic };
