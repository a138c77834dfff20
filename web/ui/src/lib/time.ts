// How times and durations read in the UI. The API gives milliseconds since the epoch.

export function relativeTime(at: number, now: number = Date.now()): string {
  const diff = now - at;
  const abs = Math.abs(diff);
  const future = diff < 0;
  const say = (n: number, unit: string) => (future ? `in ${n} ${unit}` : `${n} ${unit} ago`);
  if (abs < 45_000) return future ? 'in a few seconds' : 'just now';
  if (abs < 3_600_000) return say(Math.round(abs / 60_000), 'min');
  if (abs < 86_400_000) return say(Math.round(abs / 3_600_000), 'h');
  const days = Math.round(abs / 86_400_000);
  if (days < 45) return say(days, days === 1 ? 'day' : 'days');
  return new Date(at).toLocaleDateString();
}

export function formatDuration(ms: number): string {
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const totalSeconds = Math.round(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) return `${hours} h ${minutes} min`;
  return seconds ? `${minutes} min ${seconds} s` : `${minutes} min`;
}

/** The duration between two instants, running up to now when `end` is not yet. */
export function spanDuration(start: number | null, end: number | null, now: number = Date.now()): string {
  if (!start) return '–';
  return formatDuration((end ?? now) - start);
}

export function formatDateTime(at: number): string {
  return new Date(at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}
