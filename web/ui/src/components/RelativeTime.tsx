import { formatDateTime, relativeTime } from '../lib/time';

/** "5 min ago", with the exact time for those who hover or use a screen reader. */
export function RelativeTime({ at }: { at: number | null | undefined }) {
  if (!at) return <span>–</span>;
  return (
    <time dateTime={new Date(at).toISOString()} title={formatDateTime(at)}>
      {relativeTime(at)}
    </time>
  );
}
