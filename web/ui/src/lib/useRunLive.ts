// A run kept up to date from its event stream. Events change statuses at once; the full detail
// (attempts, outputs) is fetched again shortly after, since events carry only the state.
import { useEffect, useRef, useState } from 'react';
import { runsApi } from '../api/endpoints';
import type { RunDetail, RunEvent, Step, StepEvent } from '../api/types';
import { useAsync, type AsyncState } from './useAsync';

export type LiveState = 'connecting' | 'live' | 'ended' | 'reconnecting' | 'offline';

const REFETCH_DELAY_MS = 700;

export function applyRunEvent(run: RunDetail, event: RunEvent): RunDetail {
  if (event.run_id !== run.id) return run;
  return {
    ...run,
    status: event.status,
    error: event.error,
    started_at: event.started_at || run.started_at,
    finished_at: event.finished_at || null,
  };
}

export function applyStepEvent(run: RunDetail, event: StepEvent): RunDetail {
  // Foreach items report under their step id with an index: they do not change the step's own state.
  if (event.run_id !== run.id || event.index !== undefined) return run;
  const update = (step: Step): Step => ({
    ...step,
    status: event.status,
    attempt: event.attempt,
    error: event.error,
    started_at: event.started_at || null,
    finished_at: event.finished_at || null,
  });
  const exists = run.steps.some((s) => s.step_id === event.step_id);
  const steps = exists
    ? run.steps.map((s) => (s.step_id === event.step_id ? update(s) : s))
    : [...run.steps, update({ step_id: event.step_id, status: 'pending', attempt: 0, output: null, error: null, started_at: null, finished_at: null, attempts: [] })];
  return { ...run, steps };
}

function parse<T>(data: string): T | null {
  try {
    return JSON.parse(data) as T;
  } catch {
    return null;
  }
}

export function useRunLive(id: string): AsyncState<RunDetail> & { live: LiveState } {
  const state = useAsync((signal) => runsApi.get(id, signal), [id]);
  const [live, setLive] = useState<LiveState>('connecting');
  const { setData, reload } = state;
  const refetchTimer = useRef<number | null>(null);

  useEffect(() => {
    if (typeof EventSource === 'undefined') {
      setLive('offline');
      return;
    }
    const source = new EventSource(runsApi.eventsUrl(id), { withCredentials: true });
    let ended = false;
    const scheduleRefetch = () => {
      if (refetchTimer.current !== null) return;
      refetchTimer.current = window.setTimeout(() => {
        refetchTimer.current = null;
        reload();
      }, REFETCH_DELAY_MS);
    };

    source.onopen = () => setLive('live');
    source.addEventListener('run', (e) => {
      const event = parse<RunEvent>((e as MessageEvent<string>).data);
      if (event) setData((prev) => (prev ? applyRunEvent(prev, event) : prev));
      scheduleRefetch();
    });
    source.addEventListener('step', (e) => {
      const event = parse<StepEvent>((e as MessageEvent<string>).data);
      if (event) setData((prev) => (prev ? applyStepEvent(prev, event) : prev));
      scheduleRefetch();
    });
    source.addEventListener('end', () => {
      ended = true;
      source.close();
      setLive('ended');
      scheduleRefetch();
    });
    source.onerror = () => {
      if (ended) return;
      // The browser retries by itself unless the server refused the stream outright.
      setLive(source.readyState === EventSource.CLOSED ? 'offline' : 'reconnecting');
    };

    return () => {
      source.close();
      if (refetchTimer.current !== null) window.clearTimeout(refetchTimer.current);
      refetchTimer.current = null;
    };
  }, [id, setData, reload]);

  return { ...state, live };
}
