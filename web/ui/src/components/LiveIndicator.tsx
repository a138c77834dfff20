import type { LiveState } from '../lib/useRunLive';

const TEXT: Record<LiveState, string> = {
  connecting: 'Connecting to live updates…',
  live: 'Live',
  ended: 'Final state',
  reconnecting: 'Reconnecting…',
  offline: 'Live updates unavailable; reload to refresh',
};

export function LiveIndicator({ state }: { state: LiveState }) {
  return (
    <span className={`live live-${state}`} role="status">
      <span className="live-dot" aria-hidden="true" />
      {TEXT[state]}
    </span>
  );
}
