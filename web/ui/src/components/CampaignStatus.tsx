import type { CampaignStatus as Status } from '../api/kpis';

const LABELS: Record<string, string> = { active: 'Active', paused: 'Paused', removed: 'Removed', archived: 'Archived' };

export function campaignStatusLabel(status: Status | null): string {
  if (status === null) return 'Unknown';
  return LABELS[status] ?? status.charAt(0).toUpperCase() + status.slice(1);
}

/** A campaign's status as the platform last reported it (a sync or a pause records it). */
export function CampaignStatus({ status }: { status: Status | null }) {
  const known = status !== null && status in LABELS;
  return (
    <span
      className={`chip campaign-status campaign-status-${known ? status : 'other'}`}
      title={status === null ? 'Not recorded yet: the daily sync records each campaign’s status' : undefined}
    >
      {campaignStatusLabel(status)}
    </span>
  );
}
