// The pending-approvals count shown in the navigation. Pages that decide an approval call
// announceApprovalsChanged() so the badge does not wait for the next poll.
import { useEffect, useState } from 'react';
import { approvalsApi } from '../api/endpoints';

const EVENT = 'flowpilot:approvals-changed';
const POLL_MS = 30_000;

export function announceApprovalsChanged(): void {
  window.dispatchEvent(new Event(EVENT));
}

export function usePendingApprovalsCount(enabled: boolean): number | null {
  const [count, setCount] = useState<number | null>(null);

  useEffect(() => {
    if (!enabled) return;
    let controller = new AbortController();
    const refresh = () => {
      controller.abort();
      controller = new AbortController();
      approvalsApi
        .pending(controller.signal)
        .then((list) => setCount(list.items.length))
        .catch(() => {
          // The badge is a hint; the Approvals page shows the error itself.
        });
    };
    refresh();
    const timer = window.setInterval(refresh, POLL_MS);
    window.addEventListener(EVENT, refresh);
    return () => {
      controller.abort();
      window.clearInterval(timer);
      window.removeEventListener(EVENT, refresh);
    };
  }, [enabled]);

  return enabled ? count : null;
}
