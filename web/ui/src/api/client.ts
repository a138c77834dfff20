// The one place the UI talks HTTP: JSON in and out, the CSRF header on changes, problem+json
// errors turned into ApiError, and a 401 anywhere announced so the app can send the user to sign in.
import type { Problem } from './types';

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(problem.detail || problem.title);
    this.name = 'ApiError';
    this.status = problem.status;
    this.problem = problem;
  }

  /** The messages of errors naming `field` (a body member or query parameter). */
  fieldErrors(field: string): string[] {
    return (this.problem.errors ?? [])
      .filter((e) => e.path === field || e.path?.startsWith(`${field}.`) || e.path?.startsWith(`${field}[`))
      .map((e) => e.message);
  }
}

let csrfToken: string | null = null;
const unauthorizedListeners = new Set<() => void>();

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called whenever the server answers 401: the session ended or never was. */
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

function isProblem(value: unknown): value is Problem {
  return typeof value === 'object' && value !== null && 'title' in value && 'status' in value;
}

/** Reads an error answer; servers or proxies that send no problem+json still get a readable one. */
export async function parseProblem(response: Response): Promise<Problem> {
  const text = await response.text().catch(() => '');
  if (text) {
    try {
      const body: unknown = JSON.parse(text);
      if (isProblem(body)) {
        return {
          type: body.type ?? 'about:blank',
          title: body.title,
          status: body.status ?? response.status,
          detail: body.detail ?? '',
          instance: body.instance,
          errors: Array.isArray(body.errors) ? body.errors : undefined,
          required_permission: body.required_permission,
        };
      }
    } catch {
      // Not JSON: fall through to a problem made from the status line.
    }
  }
  return {
    type: 'about:blank',
    title: response.statusText || `HTTP ${response.status}`,
    status: response.status,
    detail: text && text.length < 300 ? text : `The server answered ${response.status}.`,
  };
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions {
  query?: Query;
  /** JSON-encoded unless it is a string, which is sent as is with `contentType`. */
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** Skip the signed-out announcement (for the session probe and sign-in itself). */
  quiet401?: boolean;
}

export function buildUrl(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const qs = params.toString();
  return `/api/v1${path}${qs ? `?${qs}` : ''}`;
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  let body: string | undefined;
  if (options.body !== undefined) {
    if (typeof options.body === 'string') {
      body = options.body;
      headers['Content-Type'] = options.contentType ?? 'text/plain';
    } else {
      body = JSON.stringify(options.body);
      headers['Content-Type'] = 'application/json';
    }
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;

  let response: Response;
  try {
    response = await fetch(buildUrl(path, options.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError({
      type: 'about:blank',
      title: 'Server unreachable',
      status: 0,
      detail: 'The Flowpilot server did not answer. Check that it is running, then try again.',
    });
  }

  if (!response.ok) {
    const problem = await parseProblem(response);
    if (response.status === 401 && !options.quiet401) {
      for (const listener of [...unauthorizedListeners]) listener();
    }
    throw new ApiError(problem);
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>('GET', path, { query, signal }),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, { body }),
  put: <T>(path: string, body: unknown, contentType?: string) => request<T>('PUT', path, { body, contentType }),
};
