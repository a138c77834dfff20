import type { RunStatus, StepStatus } from '../api/types';

const LABELS: Record<string, string> = {
  queued: 'Queued',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
  timed_out: 'Timed out',
  pending: 'Pending',
  ready: 'Ready',
  waiting: 'Waiting',
  skipped: 'Skipped',
  approved: 'Approved',
  rejected: 'Rejected',
  expired: 'Expired',
};

export function statusLabel(status: string): string {
  return LABELS[status] ?? status;
}

/** A run, step or approval status; the text carries the meaning, the colour only repeats it. */
export function StatusChip({ status }: { status: RunStatus | StepStatus | string }) {
  return <span className={`chip chip-${status}`}>{statusLabel(status)}</span>;
}
