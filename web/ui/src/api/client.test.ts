import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, onUnauthorized, parseProblem, request, setCsrfToken } from './client';

function jsonResponse(status: number, body: unknown, type = 'application/json'): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } });
}

describe('api client', () => {
  const fetchMock = vi.fn<typeof fetch>();

  beforeEach(() => {
    fetchMock.mockReset();
    vi.stubGlobal('fetch', fetchMock);
    setCsrfToken('token-123');
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    setCsrfToken(null);
  });

  it('sends the CSRF token and a JSON body on POST', async () => {
    fetchMock.mockResolvedValue(jsonResponse(201, { run_id: 'r1', created: true, url: '/api/v1/runs/r1' }));
    const started = await request<{ run_id: string }>('POST', '/workflows/w/runs', { body: { inputs: { days: 3 } } });
    expect(started.run_id).toBe('r1');
    const [url, init] = fetchMock.mock.calls[0] ?? [];
    expect(url).toBe('/api/v1/workflows/w/runs');
    const headers = init?.headers as Record<string, string>;
    expect(headers['X-CSRF-Token']).toBe('token-123');
    expect(headers['Content-Type']).toBe('application/json');
    expect(init?.body).toBe('{"inputs":{"days":3}}');
    expect(init?.credentials).toBe('same-origin');
  });

  it('does not send the CSRF token on GET, and encodes the query', async () => {
    fetchMock.mockResolvedValue(jsonResponse(200, { items: [] }));
    await request('GET', '/runs', { query: { workflow: 'a b', status: undefined, limit: 50 } });
    const [url, init] = fetchMock.mock.calls[0] ?? [];
    expect(url).toBe('/api/v1/runs?workflow=a+b&limit=50');
    expect((init?.headers as Record<string, string>)['X-CSRF-Token']).toBeUndefined();
  });

  it('announces a 401 so the app can sign the user out', async () => {
    const listener = vi.fn();
    const unsubscribe = onUnauthorized(listener);
    fetchMock.mockResolvedValue(jsonResponse(401, { type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'sign in' }, 'application/problem+json'));
    await expect(request('GET', '/runs')).rejects.toBeInstanceOf(ApiError);
    expect(listener).toHaveBeenCalledTimes(1);

    // The session probe and sign-in handle their own 401.
    await expect(request('GET', '/auth/session', { quiet401: true })).rejects.toMatchObject({ status: 401 });
    expect(listener).toHaveBeenCalledTimes(1);
    unsubscribe();
  });

  it('turns problem+json into an ApiError with field errors', async () => {
    fetchMock.mockResolvedValue(
      jsonResponse(
        422,
        {
          type: 'about:blank',
          title: 'Invalid inputs',
          status: 422,
          detail: 'the run inputs do not match',
          errors: [
            { path: 'inputs.days', message: 'must be an integer' },
            { path: 'comment', message: 'too long' },
          ],
        },
        'application/problem+json',
      ),
    );
    const error = await request('POST', '/x', { body: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    const apiError = error as ApiError;
    expect(apiError.status).toBe(422);
    expect(apiError.message).toBe('the run inputs do not match');
    expect(apiError.fieldErrors('inputs')).toEqual(['must be an integer']);
    expect(apiError.fieldErrors('comment')).toEqual(['too long']);
    expect(apiError.fieldErrors('email')).toEqual([]);
  });

  it('makes a readable problem from an answer that is not problem+json', async () => {
    const problem = await parseProblem(new Response('upstream broke', { status: 502, statusText: 'Bad Gateway' }));
    expect(problem).toMatchObject({ status: 502, title: 'Bad Gateway', detail: 'upstream broke' });
  });

  it('reports an unreachable server as a problem', async () => {
    fetchMock.mockRejectedValue(new TypeError('Failed to fetch'));
    await expect(request('GET', '/runs')).rejects.toMatchObject({ status: 0, problem: { title: 'Server unreachable' } });
  });

  it('sends definitions as text with their content type', async () => {
    fetchMock.mockResolvedValue(jsonResponse(200, { valid: true, errors: [] }));
    await request('POST', '/validate', { body: 'id: x\n', contentType: 'application/yaml' });
    const [, init] = fetchMock.mock.calls[0] ?? [];
    expect(init?.body).toBe('id: x\n');
    expect((init?.headers as Record<string, string>)['Content-Type']).toBe('application/yaml');
  });
});
