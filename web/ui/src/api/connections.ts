// Typed calls of the connection routes (web/openapi.json, docs/connections.md). Secret values
// only ever travel from the UI to the server: answers name the secret fields that are set.
import { api, request } from './client';

export interface RateLimit {
  /** Sustained calls per second; 0 is unlimited. */
  per_second: number;
  burst: number;
}

export type ConnectionFieldKind = 'text' | 'url' | 'secret' | 'digits' | 'choice';

export interface ConnectionField {
  name: string;
  label: string;
  description: string;
  secret: boolean;
  required: boolean;
  kind: ConnectionFieldKind;
  default?: string;
  choices?: string[];
}

export interface ConnectionType {
  name: string;
  title: string;
  description: string;
  oauth2: boolean;
  rate_limit: RateLimit;
  /** At least one of these fields must be set; empty when there is no such rule. */
  one_of: string[];
  fields: ConnectionField[];
}

export interface ConnectionTypeList {
  items: ConnectionType[];
}

export interface Connection {
  name: string;
  type: string;
  /** The non-secret fields that are set. */
  fields: Record<string, string>;
  /** The secret fields that hold a value (never the value). */
  secret_fields_set: string[];
  rate_limit: RateLimit;
  rate_limit_default: boolean;
  key_id: string;
  created_at: number;
  updated_at: number;
}

export interface ConnectionList {
  items: Connection[];
}

/** Create: name, type and fields. Update: only what changes; a field set to null is cleared. */
export interface ConnectionInput {
  name?: string;
  type?: string;
  fields?: Record<string, string | null>;
  rate_limit?: RateLimit;
}

export interface ConnectionTest {
  ok: boolean;
  /** What was checked and passed, in order. */
  checks: string[];
  /** Why the test failed, when ok is false. */
  error?: string;
}

const enc = encodeURIComponent;

export const connectionsApi = {
  types: (signal?: AbortSignal) => api.get<ConnectionTypeList>('/connection-types', undefined, signal),
  list: (signal?: AbortSignal) => api.get<ConnectionList>('/connections', undefined, signal),
  get: (name: string, signal?: AbortSignal) => api.get<Connection>(`/connections/${enc(name)}`, undefined, signal),
  create: (input: ConnectionInput) => api.post<Connection>('/connections', input),
  update: (name: string, input: ConnectionInput) => api.put<Connection>(`/connections/${enc(name)}`, input),
  remove: (name: string) => request<void>('DELETE', `/connections/${enc(name)}`),
  test: (name: string) => api.post<ConnectionTest>(`/connections/${enc(name)}/test`),
};
