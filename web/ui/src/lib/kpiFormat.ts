// How KPI numbers read: money per currency, counts, ROAS as a multiple, CTR/CVR as percentages,
// deltas with a sign, dates of the warehouse (YYYY-MM-DD, calendar days without a time zone).
export const NONE = '—';
const LOCALE = 'en-US';

const moneyFormats = new Map<string, Intl.NumberFormat>();

function moneyFormat(currency: string, whole: boolean): Intl.NumberFormat {
  const key = `${currency}|${whole}`;
  let format = moneyFormats.get(key);
  if (!format) {
    try {
      format = new Intl.NumberFormat(LOCALE, {
        style: 'currency',
        currency,
        ...(whole ? { maximumFractionDigits: 0, minimumFractionDigits: 0 } : {}),
      });
    } catch {
      // Not an ISO 4217 code: show the number with the code after it.
      const plain = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: whole ? 0 : 2, maximumFractionDigits: whole ? 0 : 2 });
      format = { format: (n: number) => `${plain.format(n)} ${currency}` } as Intl.NumberFormat;
    }
    moneyFormats.set(key, format);
  }
  return format;
}

/** An amount in major units, e.g. €1,234.50; `whole` drops the cents (for large figures on tiles). */
export function formatMoney(value: number | null | undefined, currency: string, options: { whole?: boolean } = {}): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NONE;
  return moneyFormat(currency, options.whole ?? false).format(value);
}

const countFormat = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 2 });

/** Impressions, clicks, conversions (attributed conversions can be fractional). */
export function formatCount(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NONE;
  return countFormat.format(value);
}

const multipleFormat = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** ROAS, revenue per unit of spend: 3.42×. */
export function formatMultiple(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NONE;
  return `${multipleFormat.format(value)}×`;
}

/** A ratio (CTR, CVR: 0.0123) as a percentage: 1.23%. */
export function formatRate(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NONE;
  const pct = value * 100;
  const digits = Math.abs(pct) >= 10 ? 1 : 2;
  return `${pct.toFixed(digits)}%`;
}

/** A change in percent (12.5 is +12.5%), with a real minus sign. */
export function formatDeltaPct(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NONE;
  const digits = Math.abs(value) >= 100 ? 0 : 1;
  const text = Math.abs(value).toFixed(digits);
  if (Number(text) === 0) return `0${digits ? '.0' : ''}%`;
  return `${value > 0 ? '+' : '−'}${text}%`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function parts(iso: string): [number, number, number] | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) return null;
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** 2026-11-22 → 22 Nov 2026 (or 22 Nov without the year). */
export function formatDay(iso: string, options: { year?: boolean } = {}): string {
  const p = parts(iso);
  if (!p) return iso;
  const [y, m, d] = p;
  return `${d} ${MONTHS[m - 1] ?? ''}${options.year === false ? '' : ` ${y}`}`;
}

/** 2026-10-26 … 2026-11-22 → 26 Oct – 22 Nov 2026 (the year once when both days share it). */
export function formatSpan(since: string, until: string): string {
  const a = parts(since);
  const b = parts(until);
  if (!a || !b) return `${since} – ${until}`;
  if (since === until) return formatDay(since);
  return a[0] === b[0] ? `${formatDay(since, { year: false })} – ${formatDay(until)}` : `${formatDay(since)} – ${formatDay(until)}`;
}

const PLATFORM_NAMES: Record<string, string> = {
  meta: 'Meta',
  google_ads: 'Google Ads',
  tiktok: 'TikTok',
  linkedin: 'LinkedIn',
  microsoft_ads: 'Microsoft Ads',
};

/** google_ads → Google Ads; an unknown name is shown with its underscores as spaces. */
export function platformName(platform: string): string {
  return PLATFORM_NAMES[platform] ?? platform.replace(/_/g, ' ').replace(/^\w/, (c) => c.toUpperCase());
}

const compactCount = new Intl.NumberFormat(LOCALE, { notation: 'compact', maximumFractionDigits: 1 });
const compactMoney = new Map<string, Intl.NumberFormat>();

/** Short axis labels: 12K, €1.2M. */
export function formatCompact(value: number, currency?: string): string {
  if (!Number.isFinite(value)) return '';
  if (!currency) return compactCount.format(value);
  let format = compactMoney.get(currency);
  if (!format) {
    try {
      format = new Intl.NumberFormat(LOCALE, { style: 'currency', currency, notation: 'compact', maximumFractionDigits: 1 });
    } catch {
      format = compactCount;
    }
    compactMoney.set(currency, format);
  }
  return format.format(value);
}
