// A schedule chosen in words ("every Monday at 9:00 Berlin time") and the cron expression and
// time zone it stands for. Only the forms the wizard offers are read back from cron; anything
// else is left to the YAML.

export type Frequency = 'daily' | 'weekdays' | 'weekly' | 'hourly';

export interface Schedule {
  frequency: Frequency;
  /** 0 = Sunday ... 6 = Saturday; used when `frequency` is `weekly`. */
  day: number;
  /** 0-23; not used when `frequency` is `hourly`. */
  hour: number;
  /** 0-59 */
  minute: number;
  /** IANA time zone name. */
  timezone: string;
}

export const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const DAY_TOKENS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** The choices of the frequency dropdown, Monday first. */
export const FREQUENCY_CHOICES: { value: string; label: string }[] = [
  { value: 'daily', label: 'every day' },
  { value: 'weekdays', label: 'every weekday (Monday to Friday)' },
  ...[1, 2, 3, 4, 5, 6, 0].map((d) => ({ value: `weekly-${d}`, label: `every ${DAY_NAMES[d]}` })),
  { value: 'hourly', label: 'every hour' },
];

export function frequencyChoice(schedule: Schedule): string {
  return schedule.frequency === 'weekly' ? `weekly-${schedule.day}` : schedule.frequency;
}

export function applyFrequencyChoice(schedule: Schedule, choice: string): Schedule {
  const weekly = /^weekly-([0-6])$/.exec(choice);
  if (weekly) return { ...schedule, frequency: 'weekly', day: Number(weekly[1]) };
  if (choice === 'daily' || choice === 'weekdays' || choice === 'hourly') return { ...schedule, frequency: choice };
  return schedule;
}

/** Common zones for the dropdown; the browser's own zone is added when missing. */
export const COMMON_TIMEZONES = [
  'Europe/Berlin',
  'Europe/London',
  'Europe/Paris',
  'Europe/Amsterdam',
  'Europe/Madrid',
  'Europe/Rome',
  'Europe/Vienna',
  'Europe/Zurich',
  'Europe/Stockholm',
  'Europe/Warsaw',
  'Europe/Helsinki',
  'Europe/Istanbul',
  'UTC',
  'America/New_York',
  'America/Chicago',
  'America/Denver',
  'America/Los_Angeles',
  'America/Toronto',
  'America/Sao_Paulo',
  'America/Mexico_City',
  'Asia/Dubai',
  'Asia/Kolkata',
  'Asia/Singapore',
  'Asia/Shanghai',
  'Asia/Tokyo',
  'Australia/Sydney',
  'Pacific/Auckland',
];

/** The browser's zone when it names an IANA zone, else Europe/Berlin. */
export function defaultTimezone(): string {
  try {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && (zone === 'UTC' || zone.includes('/'))) return zone;
  } catch {
    // No Intl time zone support: use the default below.
  }
  return 'Europe/Berlin';
}

export function timezoneChoices(current: string, browser: string = defaultTimezone()): string[] {
  const zones = [...COMMON_TIMEZONES];
  for (const extra of [browser, current]) if (extra && !zones.includes(extra)) zones.unshift(extra);
  return zones;
}

/** "Europe/Berlin" → "Berlin time", "America/New_York" → "New York time", "UTC" → "UTC". */
export function timezoneInWords(zone: string): string {
  if (zone === 'UTC' || zone === 'Etc/UTC' || zone === 'GMT') return 'UTC';
  const city = zone.split('/').pop() ?? zone;
  return `${city.replace(/_/g, ' ')} time`;
}

export function clockText(hour: number, minute: number): string {
  return `${hour}:${String(minute).padStart(2, '0')}`;
}

/** The cron expression (5 fields) of a schedule. */
export function scheduleToCron(s: Schedule): string {
  const minute = clamp(s.minute, 0, 59);
  const hour = clamp(s.hour, 0, 23);
  switch (s.frequency) {
    case 'hourly':
      return `${minute} * * * *`;
    case 'weekdays':
      return `${minute} ${hour} * * MON-FRI`;
    case 'weekly':
      return `${minute} ${hour} * * ${DAY_TOKENS[clamp(s.day, 0, 6)]}`;
    default:
      return `${minute} ${hour} * * *`;
  }
}

/** "every Monday at 9:00 Berlin time", "every hour at minute 15 (Berlin time)". */
export function scheduleInWords(s: Schedule): string {
  const zone = timezoneInWords(s.timezone);
  switch (s.frequency) {
    case 'hourly':
      return s.minute === 0 ? `every hour, on the hour (${zone})` : `every hour at ${s.minute} minutes past (${zone})`;
    case 'weekdays':
      return `every weekday (Monday to Friday) at ${clockText(s.hour, s.minute)} ${zone}`;
    case 'weekly':
      return `every ${DAY_NAMES[clamp(s.day, 0, 6)]} at ${clockText(s.hour, s.minute)} ${zone}`;
    default:
      return `every day at ${clockText(s.hour, s.minute)} ${zone}`;
  }
}

function clamp(n: number, low: number, high: number): number {
  return Number.isFinite(n) ? Math.min(high, Math.max(low, Math.trunc(n))) : low;
}

function number(field: string, max: number): number | null {
  if (!/^\d{1,2}$/.test(field)) return null;
  const n = Number(field);
  return n <= max ? n : null;
}

function weekday(field: string): number | null {
  const upper = field.toUpperCase();
  const named = DAY_TOKENS.indexOf(upper);
  if (named >= 0) return named;
  const n = number(field, 7);
  return n === null ? null : n % 7;
}

const MACROS: Record<string, string> = { '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *', '@weekly': '0 0 * * 0' };

/**
 * The schedule a cron expression stands for, when it is one the wizard offers (every day,
 * every weekday, one day a week, every hour at a fixed time); null otherwise.
 */
export function cronToSchedule(expression: string, timezone: string): Schedule | null {
  const trimmed = expression.trim();
  let fields = (MACROS[trimmed.toLowerCase()] ?? trimmed).split(/\s+/);
  if (fields.length === 6) {
    if (fields[0] !== '0') return null;
    fields = fields.slice(1);
  }
  if (fields.length !== 5) return null;
  const [minuteField = '', hourField = '', dom = '', month = '', dow = ''] = fields;
  const minute = number(minuteField, 59);
  if (minute === null) return null;
  const anyDay = (f: string) => f === '*' || f === '?';
  if (!anyDay(dom) || month !== '*') return null;
  if (hourField === '*') {
    return anyDay(dow) ? { frequency: 'hourly', day: 1, hour: 9, minute, timezone } : null;
  }
  const hour = number(hourField, 23);
  if (hour === null) return null;
  if (anyDay(dow)) return { frequency: 'daily', day: 1, hour, minute, timezone };
  const upper = dow.toUpperCase();
  if (upper === 'MON-FRI' || upper === '1-5') return { frequency: 'weekdays', day: 1, hour, minute, timezone };
  const day = weekday(dow);
  if (day === null) return null;
  return { frequency: 'weekly', day, hour, minute, timezone };
}

/** "HH:MM" for an <input type="time">. */
export function timeValue(s: Schedule): string {
  return `${String(s.hour).padStart(2, '0')}:${String(s.minute).padStart(2, '0')}`;
}

/** Reads "HH:MM" (or "HH:MM:SS"); null when it is not a time of day. */
export function parseTimeValue(value: string): { hour: number; minute: number } | null {
  const m = /^(\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?$/.exec(value.trim());
  if (!m) return null;
  const hour = Number(m[1]);
  const minute = Number(m[2]);
  return hour <= 23 && minute <= 59 ? { hour, minute } : null;
}

/**
 * A fire time from GET /api/v1/cron/next ("2026-11-30T09:00:00+01:00": local time in the
 * schedule's zone with its offset) in words, read as written rather than in the browser's zone:
 * "Monday 30 November 2026, 9:00".
 */
export function fireTimeInWords(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso);
  if (!m) return iso;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const weekdayIndex = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  const months = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
  return `${DAY_NAMES[weekdayIndex]} ${day} ${months[month - 1]} ${year}, ${clockText(hour, minute)}`;
}
