// Says a cron schedule in words for the forms people write most; anything else comes back
// as the expression itself, since a wrong paraphrase is worse than none.

const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const DAY_ABBREV: Record<string, number> = { SUN: 0, MON: 1, TUE: 2, WED: 3, THU: 4, FRI: 5, SAT: 6 };
const MONTH_NAMES = [
  'January', 'February', 'March', 'April', 'May', 'June',
  'July', 'August', 'September', 'October', 'November', 'December',
];
const MONTH_ABBREV = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

function isNumber(field: string): boolean {
  return /^\d+$/.test(field);
}

function dayNumber(token: string): number | null {
  const upper = token.toUpperCase();
  if (upper in DAY_ABBREV) return DAY_ABBREV[upper] ?? null;
  if (!isNumber(token)) return null;
  const n = Number(token);
  if (n > 7) return null;
  return n % 7;
}

function monthNumber(token: string): number | null {
  const idx = MONTH_ABBREV.indexOf(token.toUpperCase());
  if (idx >= 0) return idx + 1;
  if (!isNumber(token)) return null;
  const n = Number(token);
  return n >= 1 && n <= 12 ? n : null;
}

function ordinal(n: number): string {
  const mod100 = n % 100;
  if (mod100 >= 11 && mod100 <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}

function listInWords(parts: string[]): string {
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

function clock(hour: number, minute: number): string {
  return `${hour}:${String(minute).padStart(2, '0')}`;
}

/** The days-of-week field in words ("Monday", "weekday", "Monday and Thursday"), or null. */
function daysInWords(field: string): { words: string; plural: boolean } | null {
  const upper = field.toUpperCase();
  if (upper === '1-5' || upper === 'MON-FRI') return { words: 'weekday', plural: false };
  if (upper === '0,6' || upper === '6,0' || upper === 'SAT,SUN' || upper === 'SUN,SAT' || upper === '6-7' || upper === 'SAT-SUN') {
    return { words: 'Saturday and Sunday', plural: true };
  }
  const days: number[] = [];
  for (const token of field.split(',')) {
    const range = token.split('-');
    if (range.length === 2) {
      const from = dayNumber(range[0] ?? '');
      const to = dayNumber(range[1] ?? '');
      if (from === null || to === null) return null;
      const end = to < from ? to + 7 : to;
      if (end === from) return null;
      return field.includes(',') ? null : { words: `${DAY_NAMES[from]} to ${DAY_NAMES[end % 7]}`, plural: true };
    }
    const day = dayNumber(token);
    if (day === null) return null;
    days.push(day);
  }
  return { words: listInWords(days.map((d) => DAY_NAMES[d] ?? '')), plural: days.length > 1 };
}

/** The time of day for numeric minute and hour fields (lists of hours allowed), or null. */
function timesInWords(minute: string, hour: string): string | null {
  if (!isNumber(minute)) return null;
  const hours = hour.split(',');
  if (!hours.every(isNumber)) return null;
  const m = Number(minute);
  if (m > 59 || hours.some((h) => Number(h) > 23)) return null;
  return listInWords(hours.map((h) => clock(Number(h), m)));
}

function describeFields(fields: string[]): string | null {
  const [minute = '', hour = '', dom = '', month = '', dow = ''] = fields;
  const everyDay = dom === '*' && month === '*' && (dow === '*' || dow === '?');

  if (everyDay && hour === '*') {
    if (minute === '*') return 'every minute';
    const step = /^\*\/(\d+)$/.exec(minute);
    if (step) return step[1] === '1' ? 'every minute' : `every ${step[1]} minutes`;
    if (isNumber(minute) && Number(minute) < 60) {
      return minute === '0' ? 'every hour' : `every hour at minute ${Number(minute)}`;
    }
    return null;
  }
  const hourStep = /^\*\/(\d+)$/.exec(hour);
  if (everyDay && hourStep && isNumber(minute) && Number(minute) < 60) {
    const every = hourStep[1] === '1' ? 'every hour' : `every ${hourStep[1]} hours`;
    return minute === '0' ? every : `${every} at minute ${Number(minute)}`;
  }

  const at = timesInWords(minute, hour);
  if (at === null) return null;

  if (everyDay) return `every day at ${at}`;
  if (dom === '*' && month === '*') {
    const days = daysInWords(dow);
    if (days === null) return null;
    if (days.words === 'weekday') return `every weekday at ${at}`;
    return `every ${days.words} at ${at}`;
  }
  if (isNumber(dom) && (dow === '*' || dow === '?')) {
    const day = Number(dom);
    if (day < 1 || day > 31) return null;
    if (month === '*') return `on the ${ordinal(day)} of every month at ${at}`;
    const m = monthNumber(month);
    if (m === null) return null;
    return `every year on ${MONTH_NAMES[m - 1]} ${day} at ${at}`;
  }
  return null;
}

/** The schedule in words, or null when it is not one of the common forms. */
export function describeCron(expression: string): string | null {
  const trimmed = expression.trim();
  const expanded = MACROS[trimmed.toLowerCase()] ?? trimmed;
  let fields = expanded.split(/\s+/);
  if (fields.length === 6) {
    // Six fields have seconds first; only whole minutes read naturally.
    if (fields[0] !== '0') return null;
    fields = fields.slice(1);
  }
  if (fields.length !== 5) return null;
  return describeFields(fields);
}

/** "every day at 8:00 (Europe/Berlin)", or the expression when it has no wording. */
export function cronInWords(expression: string, timezone?: string): string {
  const words = describeCron(expression) ?? expression.trim();
  return timezone ? `${words} (${timezone})` : words;
}
